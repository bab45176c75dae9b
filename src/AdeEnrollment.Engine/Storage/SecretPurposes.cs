namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The purpose (associated data) each sealed column of the store is encrypted for: it binds a ciphertext to its row
/// and column, so a secret copied onto another row does not decrypt. The services seal with these, and the store copy
/// re-seals the same columns with them.
/// </summary>
internal static class SecretPurposes
{
    public static string TokenCredentials(Guid tokenId) => $"token:{tokenId}:credentials";

    public static string TokenRequestPrivateKey(Guid requestId) => $"token_request:{requestId}:private_key";

    public static string BusinessAccountPrivateKey(Guid accountId) => $"business_account:{accountId}:private_key";
}
