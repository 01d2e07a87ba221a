using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace SemanticCore.Embedding;

/// <summary>Vector helpers: normalization and the stored form (float32 little-endian BLOB).</summary>
public static class Vectors
{
    /// <summary>Scales a vector to unit length in place (a zero vector stays zero).</summary>
    public static float[] Normalize(float[] vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && Math.Abs(norm - 1f) > 1e-6f) TensorPrimitives.Divide(vector, norm, vector);
        return vector;
    }

    public static byte[] ToBlob(ReadOnlySpan<float> vector)
    {
        var blob = new byte[vector.Length * sizeof(float)];
        CopyToBlob(vector, blob);
        return blob;
    }

    /// <summary>Writes a vector in the stored form into <paramref name="blob"/> (4 bytes a float) without allocating.</summary>
    public static void CopyToBlob(ReadOnlySpan<float> vector, Span<byte> blob)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(blob);
        }
        else
        {
            for (var i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(blob[(i * 4)..], vector[i]);
        }
    }

    public static float[] FromBlob(ReadOnlySpan<byte> blob)
    {
        var vector = new float[blob.Length / sizeof(float)];
        CopyFromBlob(blob, vector);
        return vector;
    }

    /// <summary>Reads a stored vector into <paramref name="destination"/> (as many floats as it holds) without allocating.</summary>
    public static void CopyFromBlob(ReadOnlySpan<byte> blob, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            blob[..(destination.Length * sizeof(float))].CopyTo(MemoryMarshal.AsBytes(destination));
        }
        else
        {
            for (var i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(blob[(i * 4)..]);
        }
    }
}
