namespace AdeEnrollment.Engine.Errors;

/// <summary>
/// The engine's own copy of PowerShell's ErrorCategory names (the engine has no PowerShell reference).
/// The cmdlet layer maps these by name onto System.Management.Automation.ErrorCategory.
/// </summary>
public enum AdeErrorCategory
{
    NotSpecified,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ObjectNotFound,
    PermissionDenied,
    ResourceExists,
    ResourceUnavailable,
    ResourceBusy,
    LimitsExceeded,
    QuotaExceeded,
    SecurityError,
    ConnectionError,
    AuthenticationError,
    OperationTimeout,
    ReadError,
    WriteError,
    DeviceError,
    NotImplemented,
    OperationStopped,
    InvalidResult,
}

/// <summary>A catalogued failure: stable <see cref="ErrorId"/> (public API), category and an actionable message.</summary>
public sealed class AdeException : Exception
{
    internal AdeException(string errorId, AdeErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    /// <summary>Stable identifier, e.g. <c>TokenExpired</c>; becomes the first part of the FullyQualifiedErrorId.</summary>
    public string ErrorId { get; }

    public AdeErrorCategory Category { get; }

    /// <summary>The object the error is about (a name, a path, an Id). Never a secret.</summary>
    public object? Target { get; }

    /// <summary>The HTTP status of the answer the error is about, where one was received (Apple Business API errors).</summary>
    internal int? HttpStatus { get; set; }

    /// <summary>Apple answered the write the error is about with success, so it carried it out; only its answer was unusable.</summary>
    internal bool AcceptedByApple { get; set; }

    /// <summary>
    /// The store failed (a Store… error: unreachable, busy, damaged, a key that does not open it), as opposed to the work
    /// it was asked for; StoredTokenExpired is about a token, not the store.
    /// </summary>
    internal bool IsStoreFailure => ErrorId.StartsWith("Store", StringComparison.Ordinal) && ErrorId != nameof(ErrorCatalog.StoredTokenExpired);

    /// <summary>The ADE request Apple answered with this error ("POST /devices/disown", "GET /session"), where Apple answered one.</summary>
    internal string? Endpoint { get; set; }

    /// <summary>Apple's error code of a refused ADE request (AppleRequestInvalid), e.g. SUPPORT_EMAIL_INVALID.</summary>
    internal string? AppleCode { get; set; }

    /// <summary>The request parameter Apple's error answer named (its errors[0].source.parameter), when it named one.</summary>
    internal string? ErrorParameter { get; set; }

    /// <summary>The member of the request body Apple's error answer pointed at (its errors[0].source.pointer), when it named one.</summary>
    internal string? ErrorPointer { get; set; }

    /// <summary>The detail of Apple's error answer (its errors[0].detail, cut to 200 characters), when it gave one.</summary>
    internal string? ErrorDetail { get; set; }

    /// <summary>
    /// What the command had finished before it failed (device activities Apple accepted before a later request of the
    /// same command failed): the cmdlet writes them to the pipeline before the error, and the message names them.
    /// </summary>
    internal IReadOnlyList<object> Completed { get; private init; } = [];

    /// <summary>The same error (ID, category, status), its message ending with <paramref name="note"/>, with what the command had finished.</summary>
    internal AdeException WithCompleted(string note, IReadOnlyList<object> completed)
        => new(ErrorId, Category, Message.TrimEnd() + " " + note, Target, InnerException) { HttpStatus = HttpStatus, Endpoint = Endpoint, AppleCode = AppleCode, ErrorParameter = ErrorParameter, ErrorPointer = ErrorPointer, ErrorDetail = ErrorDetail, AcceptedByApple = AcceptedByApple, Completed = completed };

    /// <summary>The same error, its message naming the service address that was contacted (Apple errors do).</summary>
    internal AdeException WithContacted(Uri service)
        => new(ErrorId, Category, Message.TrimEnd() + " Contacted: " + service.GetLeftPart(UriPartial.Path) + ".", Target, InnerException)
        {
            HttpStatus = HttpStatus, Endpoint = Endpoint, AppleCode = AppleCode, ErrorParameter = ErrorParameter, ErrorPointer = ErrorPointer, ErrorDetail = ErrorDetail, AcceptedByApple = AcceptedByApple, Completed = Completed,
        };
}
