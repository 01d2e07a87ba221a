using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;
using SemanticCore.Embedding;

namespace SemanticCore.Onnx;

/// <summary>
/// One model loaded for inference: its WordPiece tokenizer (lower-cased, accents stripped, [CLS] and [SEP]) and an ONNX
/// Runtime session on every core. A text longer than the model reads at once is embedded in windows whose pooled vectors
/// are averaged, weighted by their tokens: nothing is cut off. Vectors are L2-normalized. Thread-safe.
/// </summary>
public sealed class SentenceEncoder : IDisposable
{
    /// <summary>
    /// Padded tokens run together (4 full windows of MiniLM, 2 of Arctic, dozens of short texts). ONNX Runtime keeps the
    /// memory of its largest run for the life of the process, and attention's grows with the square of the window; on the
    /// bench, 1,024 was also the fastest of 8,192, 4,096, 2,048 and 1,024 (docs/benchmarks.md).
    /// </summary>
    internal const int TokensPerBatch = 1024;

    private readonly InferenceSession session;
    private readonly BertTokenizer tokenizer;
    private readonly bool takesTokenTypes;

    public SentenceEncoder(OnnxModel model, string modelDirectory)
    {
        Model = model;
        var modelFile = Path.Combine(modelDirectory, "model.onnx");
        var vocabulary = Path.Combine(modelDirectory, "vocab.txt");
        foreach (var file in new[] { modelFile, vocabulary })
        {
            if (!File.Exists(file))
            {
                throw new SemanticCoreException("ModelFilesMissing", FailureKind.ObjectNotFound,
                    $"The model {model.Name} is missing its file '{file}'. Reinstall the module SemanticCore.PS.Onnx.");
            }
        }

        tokenizer = BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Environment.ProcessorCount,
        };
        session = new InferenceSession(modelFile, options);
        takesTokenTypes = session.InputMetadata.ContainsKey("token_type_ids");
    }

    public OnnxModel Model { get; }

    /// <summary>The word-piece ids the model reads for <paramref name="text"/>: one window per <see cref="OnnxModel.MaxTokens"/>, each in [CLS] … [SEP].</summary>
    public IReadOnlyList<long[]> Windows(string text)
    {
        var pieces = tokenizer.EncodeToIds(text, addSpecialTokens: false);
        var size = Model.MaxTokens - 2;
        var windows = new List<long[]>(Math.Max(1, (pieces.Count + size - 1) / size));
        var start = 0;
        do
        {
            var count = Math.Min(size, pieces.Count - start);
            var window = new long[count + 2];
            window[0] = tokenizer.ClassificationTokenId;
            for (var i = 0; i < count; i++) window[i + 1] = pieces[start + i];
            window[^1] = tokenizer.SeparatorTokenId;
            windows.Add(window);
            start += size;
        }
        while (start < pieces.Count);
        return windows;
    }

    /// <summary>Embeds texts as documents, in order.</summary>
    public float[][] EmbedDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Embed(texts, cancellationToken);

    /// <summary>Embeds a search query (with the model's query prefix, if it has one).</summary>
    public float[] EmbedQuery(string text) => Embed([Model.QueryPrefix + text], CancellationToken.None)[0];

    private float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var windows = new List<(int Text, long[] Ids)>(texts.Count);
        for (var t = 0; t < texts.Count; t++) windows.AddRange(Windows(texts[t]).Select(ids => (t, ids)));
        // Longest first: each batch is padded to its own longest window, so like lengths go together.
        windows.Sort((a, b) => b.Ids.Length.CompareTo(a.Ids.Length));

        var vectors = new float[texts.Count][];
        for (var t = 0; t < texts.Count; t++) vectors[t] = new float[Model.Dimensions];
        for (var first = 0; first < windows.Count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The first window of a batch is its longest: every window of the batch is padded to it.
            var batch = windows.GetRange(first, Math.Min(Math.Max(1, TokensPerBatch / windows[first].Ids.Length), windows.Count - first));
            first += batch.Count;
            RunBatch(batch.ConvertAll(w => w.Ids), (hidden, b) => AddPooled(hidden, batch[b].Ids.Length, vectors[batch[b].Text]));
        }

        // Normalizing divides out the token count: the sum of a text's pooled windows becomes their weighted mean.
        foreach (var vector in vectors) Vectors.Normalize(vector);
        return vectors;
    }

    /// <summary>
    /// Adds one window's pooled vector to its text's, weighted by its <paramref name="length"/> real tokens (then padding):
    /// mean pooling adds every token's vector, CLS pooling the [CLS] vector that many times.
    /// </summary>
    private void AddPooled(ReadOnlySpan<float> hidden, int length, float[] text)
    {
        var dimensions = Model.Dimensions;
        if (Model.Pooling == SentencePooling.Cls)
        {
            TensorPrimitives.MultiplyAdd(hidden[..dimensions], length, text, text);
            return;
        }

        for (var t = 0; t < length; t++) TensorPrimitives.Add(text, hidden.Slice(t * dimensions, dimensions), text);
    }

    /// <summary>Runs windows padded to the longest; hands each window's hidden states ([tokens × dimensions]) to <paramref name="each"/>.</summary>
    private void RunBatch(List<long[]> batch, SpanAction<float, int> each)
    {
        var length = batch.Max(w => w.Length);
        var ids = new long[batch.Count * length];
        var mask = new long[batch.Count * length];
        for (var b = 0; b < batch.Count; b++)
        {
            batch[b].CopyTo(ids, b * length);
            Array.Fill(mask, 1L, b * length, batch[b].Length);
        }

        long[] shape = [batch.Count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue };
        if (takesTokenTypes) inputs["token_type_ids"] = typesValue;
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, inputs, ["last_hidden_state"]);
        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        var perWindow = length * Model.Dimensions;
        for (var b = 0; b < batch.Count; b++) each(hidden.Slice(b * perWindow, perWindow), b);
    }

    public void Dispose() => session.Dispose();

    private delegate void SpanAction<T, in TArg>(ReadOnlySpan<T> span, TArg arg);
}
