namespace SemanticCore.Gemini;

/// <summary>
/// google.rpc.Code: errors inside batch output lines and operations may carry the gRPC number (8) or
/// name (RESOURCE_EXHAUSTED) instead of the HTTP code (429). Everything here is mapped to HTTP codes
/// so callers decide retries in one vocabulary.
/// </summary>
public static class GrpcStatus
{
    private static readonly (string Name, int Http)[] Codes =
    [
        ("OK", 200),                 // 0
        ("CANCELLED", 499),          // 1
        ("UNKNOWN", 500),            // 2
        ("INVALID_ARGUMENT", 400),   // 3
        ("DEADLINE_EXCEEDED", 504),  // 4
        ("NOT_FOUND", 404),          // 5
        ("ALREADY_EXISTS", 409),     // 6
        ("PERMISSION_DENIED", 403),  // 7
        ("RESOURCE_EXHAUSTED", 429), // 8
        ("FAILED_PRECONDITION", 400),// 9
        ("ABORTED", 409),            // 10
        ("OUT_OF_RANGE", 400),       // 11
        ("UNIMPLEMENTED", 501),      // 12
        ("INTERNAL", 500),           // 13
        ("UNAVAILABLE", 503),        // 14
        ("DATA_LOSS", 500),          // 15
        ("UNAUTHENTICATED", 401),    // 16
    ];

    /// <summary>HTTP code of a status name ("UNAVAILABLE" -> 503), or null for an unknown name.</summary>
    public static int? HttpCodeFromName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return null;
        foreach (var (n, http) in Codes)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return http;
        }

        return null;
    }

    /// <summary>
    /// An error code as found in a body: 100..599 is taken as HTTP, 1..16 as a gRPC number.
    /// </summary>
    public static int? NormalizeCode(long code) => code switch
    {
        >= 100 and <= 599 => (int)code,
        >= 1 and <= 16 => Codes[code].Http,
        _ => null,
    };

    /// <summary>Name of a gRPC number (8 -> RESOURCE_EXHAUSTED), or null outside 0..16.</summary>
    public static string? NameFromGrpcCode(long code) => code is >= 0 and <= 16 ? Codes[code].Name : null;

    /// <summary>The canonical status name of an HTTP code (429 -> RESOURCE_EXHAUSTED), for messages.</summary>
    public static string? NameFromHttpCode(int http) => http switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        408 => "DEADLINE_EXCEEDED",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        502 or 503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => null,
    };

    /// <summary>Worth retrying later: 408, 429 and 5xx.</summary>
    public static bool IsRetriableHttpCode(int http) => http is 408 or 429 or (>= 500 and <= 599);
}
