using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeDevice: the devices the engine knows from syncs, streamed.</summary>
[Cmdlet(VerbsCommon.Get, "AdeDevice", DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDevice))]
public sealed class GetAdeDeviceCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByInputObject = "ByInputObject";

    // -Profile resolved once per token for piped rows (a CSV of 10,000 serials resolves it once, not 10,000 times). A
    // failure is kept too (null), so that a -Profile a token does not have is one error, not one per piped row; the
    // rows without a token are under Guid.Empty.
    private readonly Dictionary<Guid, Guid?> profileByToken = [];
    private Guid? tokenOfParameter;

    // -Token as a wildcard that names several tokens (or none): the devices of those tokens only, with -Profile read in
    // each (scopes; a token without such a profile has none), and the tokens it names (a piped one of them without the
    // profile is its own ProfileNotFound)
    private IReadOnlyList<DeviceScope>? scopes;
    private HashSet<Guid>? tokenSet;

    // Exact serials waiting to be looked up together (DeviceService.LookupBatchSize at a time); written in input order.
    private readonly List<DeviceQuery> pending = [];

    /// <summary>
    /// Piped input: tokens (their devices), profiles (the devices that hold them), devices, serial strings, or rows
    /// with a serial number column (Import-Csv).
    /// </summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Tokens, profiles, devices, serial numbers or rows with a serial number column to list devices for.")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter]
    [SupportsWildcards]
    [Alias("TokenId")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(ParameterSetName = BySerial, Position = 0)]
    [Alias("Serial", "SerialNumbers")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SerialNumberCompleter))]
    [SerialNumbersTransformation]
    public string[]? SerialNumber { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Profile { get; set; }

    [Parameter]
    public SwitchParameter Unassigned { get; set; }

    [Parameter]
    public SwitchParameter RemovedFromAbm { get; set; }

    /// <summary>Devices whose last assignment attempt got this answer from Apple.</summary>
    [Parameter]
    [ValidateSet("Success", "Failed", "Throttled", "NotAccessible")]
    public string? LastAssignmentResult { get; set; }

    /// <summary>Devices Apple marks as replacements for another device.</summary>
    [Parameter]
    public SwitchParameter ReplacementDevice { get; set; }

    /// <summary>Devices whose MDM migration deadline is before this time.</summary>
    [Parameter]
    [InvariantDate]
    public DateTimeOffset? MigrationDeadlineBefore { get; set; }

    /// <summary>Devices of this platform (read from the device family, or the OS when Apple gave no family).</summary>
    [Parameter]
    public DevicePlatform[]? Platform { get; set; }

    private DeviceQuery Query(Guid? tokenId, string? serial, Guid? profileId, bool unassigned, bool removed)
        => new(tokenId, serial, profileId, unassigned, removed,
            LastAssignmentResult switch
            {
                null => null,
                "NotAccessible" => "NOT_ACCESSIBLE",
                var r => r.ToUpperInvariant(),
            },
            ReplacementDevice, MigrationDeadlineBefore, Platform, scopes);

    protected override bool ErrorsArePerItem => true;

    /// <summary>-Token is resolved once, before the first piped item: a bad one is one terminating error.</summary>
    protected override void BeginItems()
    {
        if (Token is null)
        {
            return;
        }

        var tokens = Engine.Tokens.ResolveTokens(Ref(Token));
        if (tokens is [var one])
        {
            tokenOfParameter = one.Id;
        }
        else
        {
            tokenSet = [.. tokens.Select(t => t.Id)];
            scopes = Engine.Profiles.ScopesOf(tokens, Profile is null ? null : Ref(Profile));
        }
    }

    protected override void ProcessItem()
    {
        var tokenId = tokenOfParameter;
        if (ParameterSetName == ByInputObject)
        {
            foreach (var item in InputObject)
            {
                RunItem(() => WriteFor(item, tokenId));
            }

            return;
        }

        if (scopes is not null)
        {
            // -Profile is in the scopes, read in each token -Token names
            WriteSerials(null, null);
            return;
        }

        WriteSerials(tokenId, Profile is null ? null : Engine.Profiles.Resolve(Ref(Profile), tokenId?.ToString()).Id);
    }

    private void WriteSerials(Guid? tokenId, Guid? profileId)
    {
        if (SerialNumber is null)
        {
            Write(Query(tokenId, null, profileId, Unassigned, RemovedFromAbm));
            return;
        }

        foreach (var serial in SerialNumber)
        {
            WriteSerial(new DeviceTarget(serial, tokenId), profileId);
        }
    }

    private void WriteFor(PSObject item, Guid? tokenId)
    {
        switch (DeserializedInput.Live(item, Engine))
        {
            case AdeToken token when !Named(token.Id):
                return; // -Token narrows piped tokens too
            case AdeProfile profile when !Named(profile.TokenId):
                return;
            case AdeToken token:
                {
                    WritePending();
                    if (ProfileWithin(token.Id) is { Resolved: true } byToken)
                    {
                        Write(Query(token.Id, null, byToken.Id, Unassigned, RemovedFromAbm));
                    }

                    return;
                }

            case AdeProfile profile:
                WritePending();
                Write(Query(profile.TokenId, null, profile.Id, Unassigned, RemovedFromAbm));
                return;
        }

        DeviceTarget target;
        (bool Resolved, Guid? Id) within;
        try
        {
            // -Token filters piped devices too (a row's own Token is then not looked up)
            target = PipelineDevice.Read(item, name => tokenId ?? Engine.Tokens.ResolveToken(name).Id);
            target = target with { TokenId = tokenId ?? target.TokenId };
            within = ProfileWithin(target.TokenId);
        }
        catch (AdeException)
        {
            // This item's error is written after the output of the items before it.
            WritePending();
            throw;
        }

        if (within.Resolved)
        {
            WriteSerial(target, within.Id);
        }
    }

    /// <summary>
    /// -Profile within the token (or among all profiles for a row without one): resolved at the first row of the token;
    /// its failure is thrown once, and the token's later rows are passed over (Resolved false) without a second error.
    /// </summary>
    private (bool Resolved, Guid? Id) ProfileWithin(Guid? tokenId)
    {
        if (Profile is null || (scopes is not null && tokenId is null))
        {
            return (true, null); // a row without a token under a -Token wildcard: the scopes hold each token's profile
        }

        var key = tokenId ?? Guid.Empty;
        if (profileByToken.TryGetValue(key, out var known))
        {
            return (known is not null, known);
        }

        profileByToken[key] = null;
        var id = Engine.Profiles.Resolve(Ref(Profile), tokenId?.ToString()).Id;
        profileByToken[key] = id;
        return (true, id);
    }

    private void WriteSerial(DeviceTarget target, Guid? profileId)
    {
        if (string.IsNullOrWhiteSpace(target.SerialNumber))
        {
            return;
        }

        var query = Query(target.TokenId, target.SerialNumber, profileId, Unassigned, RemovedFromAbm);
        if (Wildcard.HasWildcard(target.SerialNumber))
        {
            WritePending();
            Write(query);
            return;
        }

        pending.Add(query);
        if (pending.Count == DeviceService.LookupBatchSize)
        {
            WritePending();
        }
    }

    protected override void EndItems() => WritePending();

    /// <summary>
    /// Looks up the waiting serials with one read and writes what each found, in input order; a serial found nowhere is
    /// a DeviceNotFound error in its place.
    /// </summary>
    private void WritePending()
    {
        if (pending.Count == 0)
        {
            return;
        }

        var batch = pending.ToArray();
        pending.Clear();
        var answers = Engine.Devices.GetEach(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            foreach (var device in answers[i])
            {
                WriteObject(device);
            }

            if (answers[i].Count == 0)
            {
                WriteError(ToErrorRecord(Engine.Devices.NotFound(batch[i])));
            }
        }
    }

    private void Write(DeviceQuery query)
    {
        foreach (var device in Engine.Devices.Get(query))
        {
            WriteObject(device);
        }
    }

    /// <summary>Whether -Token (when given) names this token.</summary>
    private bool Named(Guid tokenId) => (tokenOfParameter is null || tokenOfParameter == tokenId) && (tokenSet is null || tokenSet.Contains(tokenId));
}
