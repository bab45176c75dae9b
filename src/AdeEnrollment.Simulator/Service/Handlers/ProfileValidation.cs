using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>Apple's rules for the fields of a profile definition (POST /profile), with their error codes.</summary>
internal static class ProfileValidation
{
    private static readonly Regex EmailPattern = new(@"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.CultureInvariant);
    private static readonly Regex LanguagePattern = new("^[A-Za-z]{2,3}$", RegexOptions.CultureInvariant);
    private static readonly Regex RegionPattern = new("^[A-Za-z]{2}$", RegexOptions.CultureInvariant);

    /// <summary>Apple's profile field rules and their CONFIG_* and *_INVALID codes. Unknown skip keys are accepted.</summary>
    public static string? Validate(JsonElement root)
    {
        static string? Text(JsonElement root, string name, out bool wrongType)
        {
            wrongType = false;
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                wrongType = true;
                return null;
            }

            return value.GetString();
        }

        static bool? Flag(JsonElement root, string name, out bool wrongType)
        {
            wrongType = false;
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                wrongType = true;
                return null;
            }

            return value.GetBoolean();
        }

        static bool ValidUrl(string url)
            => url.Length <= 2000 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

        var name = Text(root, "profile_name", out var bad);
        if (bad) return "CONFIG_NAME_INVALID";
        if (string.IsNullOrWhiteSpace(name)) return "CONFIG_NAME_REQUIRED";
        if (name.Length > 125) return "CONFIG_NAME_INVALID";

        var url = Text(root, "url", out bad);
        if (bad) return "CONFIG_URL_INVALID";
        if (string.IsNullOrWhiteSpace(url)) return "CONFIG_URL_REQUIRED";
        if (!ValidUrl(url)) return "CONFIG_URL_INVALID";
        var webUrl = Text(root, "configuration_web_url", out bad);
        if (bad || (webUrl is not null && !ValidUrl(webUrl))) return "CONFIG_URL_INVALID";

        bool? supervised = null, removable = null;
        foreach (var flag in new[] { "allow_pairing", "is_supervised", "is_mandatory", "is_mdm_removable", "is_multi_user", "await_device_configured", "auto_advance_setup", "is_return_to_service", "do_not_use_profile_from_backup" })
        {
            var value = Flag(root, flag, out bad);
            if (bad) return "FLAGS_INVALID";
            if (flag == "is_supervised") supervised = value;
            if (flag == "is_mdm_removable") removable = value;
        }

        if (removable == false && supervised != true) return "FLAGS_INVALID";

        var department = Text(root, "department", out bad);
        if (bad || department?.Length > 125) return "DEPARTMENT_INVALID";
        var phone = Text(root, "support_phone_number", out bad);
        if (bad || phone?.Length > 50) return "SUPPORT_PHONE_INVALID";
        var email = Text(root, "support_email_address", out bad);
        if (bad || (!string.IsNullOrEmpty(email) && (email.Length > 250 || !EmailPattern.IsMatch(email)))) return "SUPPORT_EMAIL_INVALID";
        var magic = Text(root, "org_magic", out bad);
        if (bad || magic?.Length > 256) return "MAGIC_INVALID";
        var language = Text(root, "language", out bad);
        if (bad || (!string.IsNullOrEmpty(language) && !LanguagePattern.IsMatch(language))) return "LOCALE_INVALID";
        var region = Text(root, "region", out bad);
        if (bad || (!string.IsNullOrEmpty(region) && !RegionPattern.IsMatch(region))) return "LOCALE_INVALID";

        foreach (var list in new[] { "skip_setup_items", "anchor_certs", "supervising_host_certs" })
        {
            if (root.TryGetProperty(list, out var items) && items.ValueKind != JsonValueKind.Null)
            {
                if (!RequestBody.TryStrings(items, out var values)) return "MALFORMED_REQUEST_BODY";
                if (list != "skip_setup_items" && values.Any(v => !IsBase64(v))) return "MALFORMED_REQUEST_BODY";
            }
        }

        return null;
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return value.Length > 0 && Convert.TryFromBase64String(value, buffer, out _);
    }
}
