using System.Reflection;
using Xunit.Sdk;

namespace SemanticCore.Tests.Postgres;

/// <summary>
/// A theory's PostgreSQL row (the argument <c>"Postgres"</c>), skipped as <see cref="PostgresFactAttribute"/> skips,
/// so a contract test runs against both backends from one method.
/// </summary>
public sealed class PostgresDataAttribute : DataAttribute
{
    public PostgresDataAttribute() => Skip = new PostgresFactAttribute().Skip;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["Postgres"]];
}
