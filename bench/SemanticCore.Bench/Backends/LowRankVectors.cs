namespace SemanticCore.Bench.Backends;

/// <summary>
/// Unit vectors with the structure of text embeddings: a random linear image of a 32-dimensional Gaussian plus a little
/// noise in every dimension, so that each vector has true near neighbours. Uniformly random vectors in 768 dimensions have
/// none (every pair is nearly orthogonal), which no approximate index can search well; real embeddings are low-rank.
/// The basis comes from the seed, so stored vectors and queries drawn with other generators share it.
/// </summary>
internal sealed class LowRankVectors
{
    private const int Rank = 32;
    /// <summary>The noise's share of a vector's energy, about 9 %.</summary>
    private const double NoiseVariance = 0.1;

    private readonly float[][] basis;

    public LowRankVectors(int dimensions, int seed)
    {
        var random = new Random(seed);
        basis = Enumerable.Range(0, dimensions).Select(_ => Enumerable.Range(0, Rank).Select(_ => (float)Gaussian(random)).ToArray()).ToArray();
    }

    /// <summary>Fills <paramref name="vector"/> with the next unit vector drawn with <paramref name="random"/>.</summary>
    public void Next(Random random, float[] vector)
    {
        Span<float> z = stackalloc float[Rank];
        for (var j = 0; j < Rank; j++) z[j] = (float)Gaussian(random);
        var noise = Math.Sqrt(NoiseVariance * Rank);
        double norm = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            var x = System.Numerics.Tensors.TensorPrimitives.Dot(basis[i], z) + noise * Gaussian(random);
            vector[i] = (float)x;
            norm += x * x;
        }

        var scale = 1.0 / Math.Sqrt(norm);
        for (var i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] * scale);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
}
