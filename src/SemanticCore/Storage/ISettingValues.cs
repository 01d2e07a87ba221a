namespace SemanticCore.Storage;

/// <summary>Values an index keeps by key for every process and host that opens it (the queue budget, the upload MIME type).</summary>
internal interface ISettingValues
{
    /// <summary>The value recorded under <paramref name="key"/>, or null when none is.</summary>
    string? Get(string key);

    /// <summary>Records <paramref name="value"/> under <paramref name="key"/>, replacing any value; null removes the key.</summary>
    void Set(string key, string? value);
}
