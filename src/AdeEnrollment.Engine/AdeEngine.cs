using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine;

/// <summary>The engine's services over one store, one clock and one host. Cheap to create per command.</summary>
public sealed class AdeEngine
{
    public AdeEngine(AdeStore store, IAdeHost host, TimeProvider? time = null)
        : this(store, host, time, null)
    {
    }

    /// <summary>With an Apple client factory of the caller's (tests point it at a handler of their own).</summary>
    internal AdeEngine(AdeStore store, IAdeHost host, TimeProvider? time, AppleClientFactory? apple, BusinessClientOptions? business = null)
    {
        Store = store;
        Host = host;
        Time = time ?? EngineClock.Current;
        Apple = apple ?? new AppleClientFactory(Time, host);
        Tokens = new TokenService(store, Time, host, Apple);
        StoreInfo = new StoreService(store, Time);
        Profiles = new ProfileService(store, Time, host, Tokens);
        Assignments = new AssignmentService(store, Time, host, Tokens, Profiles, Apple);
        ProfileChanges = new ProfileChangeService(store, host, Tokens, Profiles, Assignments);
        Sync = new SyncService(store, Time, host, Tokens, Apple, Assignments);
        Devices = new DeviceService(store, Time, host, Tokens);
        Business = new BusinessService(store, Time, host, Tokens, new BusinessAccountService(store, Time, host), business);
        DeviceActions = new DeviceActionService(store, Time, host, Tokens, Apple);
        Health = new Health.HealthService(store, Time, Tokens, Profiles);
        ProfileDrift = new ProfileDriftService(store, host, Tokens, Profiles, Assignments, Apple);
    }

    public AdeStore Store { get; }

    public IAdeHost Host { get; }

    public TimeProvider Time { get; }

    public TokenService Tokens { get; }

    /// <summary>Clients of Apple's ADE service for the tokens of this store.</summary>
    internal AppleClientFactory Apple { get; }

    public StoreService StoreInfo { get; }

    public SyncService Sync { get; }

    public ProfileService Profiles { get; }

    public AssignmentService Assignments { get; }

    /// <summary>Set-AdeProfile: a change of a profile, defined again at Apple when Apple holds it.</summary>
    public ProfileChangeService ProfileChanges { get; }

    public DeviceService Devices { get; }

    /// <summary>Apple Business / School API: accounts, organisation devices, MDM servers, device activities.</summary>
    public BusinessService Business { get; }
    /// <summary>Clear-AdeDeviceProfile, Update-AdeDevice, Unregister-AdeDevice.</summary>
    public DeviceActionService DeviceActions { get; }

    /// <summary>Test-AdeHealth.</summary>
    public Health.HealthService Health { get; }

    /// <summary>Test-AdeProfile.</summary>
    public ProfileDriftService ProfileDrift { get; }
}
