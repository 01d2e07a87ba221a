namespace SemanticCore.Storage;

/// <summary>
/// Where the Local provider keeps its batch jobs' input and output files: a folder beside an SQLite index, the database
/// itself for a server index (so any host can sync a job another host submitted).
/// </summary>
internal interface IBatchFileSpool
{
    /// <summary>True when a file of this name is stored whole.</summary>
    bool Exists(string name);

    /// <summary>Reads a stored file.</summary>
    /// <exception cref="FileNotFoundException">There is no file of this name.</exception>
    Stream OpenRead(string name);

    /// <summary>Writes a file: it is stored under <paramref name="name"/> (replacing any file of that name) only when the stream is disposed.</summary>
    Stream OpenWrite(string name);

    /// <summary>Deletes a file; one that is not there counts as deleted.</summary>
    void Delete(string name);
}
