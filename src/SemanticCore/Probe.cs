namespace SemanticCore;
public static class Probe { public static string Run(string db) { using var c = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + db); c.Open(); using var cmd = c.CreateCommand(); cmd.CommandText = "select sqlite_version()"; return (string)cmd.ExecuteScalar()! + " md:" + typeof(Markdig.Markdown).Assembly.GetName().Version; } }
