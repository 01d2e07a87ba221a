using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;
using System.Security;
using System.Text;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// Everything an object shows, as text: its ToString and, recursively, the values of its public properties,
/// dictionary entries and items, an exception's whole chain (message, ToString, Data), an ErrorRecord's
/// exception, target, details and invocation. For searching secrets in whatever a command emitted.
/// SecureStrings are never opened (the scan must not make the leak it looks for); engine internals
/// (commands, modules, runspaces, reflection) are named, not walked.
/// </summary>
public static class ObjectText
{
    private const int MaxDepth = 12;
    private const int MaxLength = 8 * 1024 * 1024;

    public static string Of(object? value)
    {
        var text = new StringBuilder();
        Walk(value, text, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        return text.ToString();
    }

    private static void Walk(object? value, StringBuilder text, HashSet<object> seen, int depth)
    {
        if (value is null || depth > MaxDepth || text.Length > MaxLength) return;
        switch (value)
        {
            case string s:
                text.AppendLine(s);
                return;
            case SecureString:
                return;
            case IConvertible or DateTimeOffset or TimeSpan or Guid or Enum:
                text.AppendLine(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            case Type or MemberInfo or Assembly or System.Reflection.Module or Delegate or ScriptBlock or CommandInfo or PSModuleInfo
                or System.Management.Automation.Runspaces.Runspace or SessionState or System.Threading.Tasks.Task or Stream
                or System.Runtime.InteropServices.SafeHandle or System.Threading.WaitHandle or CancellationToken:
                text.AppendLine(Safe(value.ToString));
                return;
        }

        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        text.AppendLine(Safe(value.ToString));

        switch (value)
        {
            case PSObject ps:
                Walk(ps.BaseObject, text, seen, depth + 1);
                // Note properties added to the object (ETS script properties would run script on this thread: not read).
                foreach (var property in ps.Properties.Where(p => p is PSNoteProperty))
                {
                    text.AppendLine(property.Name);
                    Walk(Safe(() => property.Value), text, seen, depth + 1);
                }

                return;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    Walk(entry.Key, text, seen, depth + 1);
                    Walk(entry.Value, text, seen, depth + 1);
                }

                return;
            case Exception exception:
                // ToString holds the whole chain with stack traces; the walk below adds Data and typed properties.
                foreach (DictionaryEntry entry in exception.Data)
                {
                    Walk(entry.Key, text, seen, depth + 1);
                    Walk(entry.Value, text, seen, depth + 1);
                }

                break;
            case IEnumerable items:
                var count = 0;
                foreach (var item in items)
                {
                    if (count++ > 10_000) break;
                    Walk(item, text, seen, depth + 1);
                }

                return;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name is "TargetSite") continue;
            text.AppendLine(property.Name);
            Walk(Safe(() => property.GetValue(value)), text, seen, depth + 1);
        }
    }

    private static T? Safe<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception)
        {
            return default;
        }
    }
}
