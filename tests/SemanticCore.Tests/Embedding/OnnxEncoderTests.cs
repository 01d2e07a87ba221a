using System.Numerics.Tensors;
using SemanticCore.Onnx;

namespace SemanticCore.Tests.Embedding;

/// <summary>The models' own contract: tokenizer, windows, pooling and normalization, against published values where they exist.</summary>
public sealed class OnnxEncoderTests
{
    /// <summary>One provider for the class: each model is loaded once (about a second), as the module does.</summary>
    internal static OnnxProvider Provider { get; } = new();

    private static SentenceEncoder MiniLM => Provider.Encoder(OnnxModel.MiniLM.Name);
    private static SentenceEncoder Arctic => Provider.Encoder(OnnxModel.ArcticXs.Name);

    public static TheoryData<string> Models => new(OnnxModel.All.Select(m => m.Name));

    [Fact]
    public void MiniLM_gives_the_similarities_its_documentation_prints()
    {
        // sbert.net, "Usage" (SentenceTransformer("all-MiniLM-L6-v2"), model.similarity): 0.6660, 0.1046, 0.1411.
        var v = MiniLM.EmbedDocuments(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]);

        Assert.Equal(0.6660, Cosine(v[0], v[1]), 3);
        Assert.Equal(0.1046, Cosine(v[0], v[2]), 3);
        Assert.Equal(0.1411, Cosine(v[1], v[2]), 3);
    }

    /// <summary>
    /// A sentence, its paraphrase in other words, and a sentence that shares some of its words but not its meaning (what a
    /// keyword search would rank first). A word-for-word scramble with another meaning fools these small models: not tested.
    /// </summary>
    private static readonly string[][] Triplets =
    [
        ["How do I reset my password?", "Steps to regain access after forgetting your login credentials.", "The password reset field on the printer form is how the font size is set."],
        ["The backup job failed last night.", "Yesterday evening's copy of our data did not finish.", "She applied for the night job as a backup singer."],
        ["The server is running out of disk space.", "The machine's storage volume is almost full.", "The space server is running a disk jockey show tonight."],
        ["Restart the web service after changing its configuration.", "Once the settings are edited, the site's daemon must be relaunched.", "The church service was changed to a web broadcast."],
        ["Who can approve a purchase over ten thousand dollars?", "Which manager signs off when buying something that costs more than $10,000?", "Ten thousand fans bought tickets over the weekend."],
    ];

    /// <summary>
    /// As search uses them (the sentence is the query, the other two are indexed texts), the paraphrase scores higher:
    /// in every triplet for all-MiniLM-L6-v2; snowflake-arctic-embed-xs puts the backup singer (0.702) above the backup
    /// that did not finish (0.633), and misses that one only.
    /// </summary>
    [Theory]
    [InlineData("all-MiniLM-L6-v2", 5)]
    [InlineData("snowflake-arctic-embed-xs", 4)]
    public void A_paraphrase_scores_above_a_sentence_that_shares_the_words(string model, int paraphrasesFirst)
    {
        var encoder = Provider.Encoder(model);
        var misses = new List<string>();
        foreach (var (sentence, paraphrase, sameWords) in Triplets.Select(t => (t[0], t[1], t[2])))
        {
            var query = encoder.EmbedQuery(sentence);
            var v = encoder.EmbedDocuments([paraphrase, sameWords]);
            if (Cosine(query, v[0]) <= Cosine(query, v[1])) misses.Add($"'{sentence}': paraphrase {Cosine(query, v[0]):F3} <= same words {Cosine(query, v[1]):F3}");
        }

        Assert.True(Triplets.Length - misses.Count >= paraphrasesFirst, string.Join("; ", misses));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Vectors_have_the_models_dimension_and_unit_length(string model)
    {
        var vector = Provider.Encoder(model).EmbedDocuments(["Nightly backups are kept for thirty days."])[0];

        Assert.Equal(OnnxModel.Find(model)!.Dimensions, vector.Length);
        Assert.Equal(1.0, TensorPrimitives.Norm(vector), 5);
    }

    [Fact]
    public void Tokens_are_lower_cased_word_pieces_without_accents_between_CLS_and_SEP()
    {
        var window = Assert.Single(MiniLM.Windows("Café NAÏVE résumé"));

        // bert-base-uncased's vocabulary: [CLS] cafe naive resume [SEP]; an accent left in would make [UNK] (100).
        Assert.Equal([101L, 7668, 15743, 13746, 102], window);
    }

    [Fact]
    public void Empty_text_is_one_window_of_CLS_and_SEP()
    {
        Assert.Equal([101L, 102], Assert.Single(MiniLM.Windows("")));
        Assert.Equal(384, MiniLM.EmbedDocuments([""])[0].Length);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_long_text_is_cut_into_windows_that_keep_every_word_piece_in_order(string model)
    {
        var encoder = Provider.Encoder(model);
        var words = Enumerable.Range(0, 700).Select(i => $"word{i}").ToList();

        var windows = encoder.Windows(string.Join(" ", words));

        Assert.True(windows.Count >= 3, $"{windows.Count} windows");
        Assert.All(windows, w => Assert.True(w.Length <= encoder.Model.MaxTokens && w[0] == 101 && w[^1] == 102));
        Assert.All(windows.SkipLast(1), w => Assert.Equal(encoder.Model.MaxTokens, w.Length));
        // Word pieces never cross a space: the text's pieces are its words' pieces, one after another.
        Assert.Equal(words.SelectMany(w => Assert.Single(encoder.Windows(w))[1..^1]), windows.SelectMany(w => w[1..^1]));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Words_past_the_models_limit_change_the_vector(string model)
    {
        var encoder = Provider.Encoder(model);
        var head = string.Join(" ", Enumerable.Repeat("The quarterly report covers revenue and costs.", 80));
        var v = encoder.EmbedDocuments([head, head + " Then a long section explains how to replace the cooling fans in the data centre."]);

        Assert.True(encoder.Windows(head).Count >= 2, "the head alone must already fill a window");
        Assert.True(Cosine(v[0], v[1]) < 0.9999, "the tail was cut off");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_texts_vector_does_not_depend_on_the_batch_it_is_padded_in(string model)
    {
        var encoder = Provider.Encoder(model);
        var alone = encoder.EmbedDocuments(["Short text."])[0];
        var batched = encoder.EmbedDocuments([string.Join(" ", Enumerable.Repeat("a much longer neighbour", 60)), "Short text.", "Another one."])[1];

        Assert.Equal(1.0, Cosine(alone, batched), 5);
    }

    [Fact]
    public void Arctic_prefixes_queries_and_MiniLM_does_not()
    {
        const string text = "where are the backups kept";

        Assert.Equal(1.0, Cosine(MiniLM.EmbedQuery(text), MiniLM.EmbedDocuments([text])[0]), 5);
        Assert.True(Cosine(Arctic.EmbedQuery(text), Arctic.EmbedDocuments([text])[0]) < 0.99);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_query_finds_its_paraphrase_among_texts_that_share_its_words(string model)
    {
        var encoder = Provider.Encoder(model);
        string[] documents =
        [
            "To change the service account's secret, open the vault and generate a new one, then restart the agent.",
            "The password of the guest Wi-Fi is printed on the card at the reception desk.",
            "Reset the printer by holding its power button for ten seconds.",
        ];
        var vectors = encoder.EmbedDocuments(documents);
        var query = encoder.EmbedQuery("How do I rotate the credentials of a service account?");

        var best = Enumerable.Range(0, documents.Length).MaxBy(i => Cosine(query, vectors[i]));
        Assert.Equal(0, best);
    }

    [Fact]
    public void A_model_without_its_files_is_reported_by_name_and_found_once_they_are_back()
    {
        var models = Directory.CreateTempSubdirectory("semanticcore-models-");
        try
        {
            var provider = new OnnxProvider(models.FullName);
            var missing = Assert.Throws<SemanticCoreException>(() => provider.Encoder(OnnxModel.MiniLM.Name));
            Assert.Equal("ModelFilesMissing", missing.ErrorId);
            Assert.Contains("model.onnx", missing.Message);

            var source = Path.Combine(AppContext.BaseDirectory, "models", OnnxModel.MiniLM.Name);
            var target = Directory.CreateDirectory(Path.Combine(models.FullName, OnnxModel.MiniLM.Name)).FullName;
            foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            Assert.Equal(384, provider.Encoder(OnnxModel.MiniLM.Name).EmbedQuery("back").Length);
        }
        finally
        {
            models.Delete(recursive: true);
        }
    }

    private static double Cosine(float[] a, float[] b) => TensorPrimitives.CosineSimilarity(a, b);
}
