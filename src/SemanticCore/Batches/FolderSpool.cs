using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>The Local provider's batch files in a folder (<c>index.db.batches/</c> beside an SQLite index).</summary>
internal sealed class FolderSpool(string folder) : IBatchFileSpool
{
    public bool Exists(string name) => File.Exists(PathOf(name));

    public Stream OpenRead(string name) => File.OpenRead(PathOf(name));

    public Stream OpenWrite(string name)
    {
        Directory.CreateDirectory(folder);
        return new WholeFileStream(PathOf(name));
    }

    public void Delete(string name)
    {
        // A spool folder removed by hand means the file is gone already.
        if (Directory.Exists(folder)) File.Delete(PathOf(name));
    }

    public override string ToString() => folder;

    private string PathOf(string name) => Path.Combine(folder, Path.GetFileName(name));

    /// <summary>Writes to a '.partial' file and moves it into place when disposed: a reader never sees half a file.</summary>
    private sealed class WholeFileStream(string path) : FileStream(path + ".partial", FileMode.Create, FileAccess.Write)
    {
        private bool moved;

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (!disposing || moved) return;
            moved = true;
            File.Move(path + ".partial", path, overwrite: true);
        }
    }
}
