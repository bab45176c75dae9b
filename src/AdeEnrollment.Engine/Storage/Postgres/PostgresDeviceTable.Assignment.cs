namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: the assignment records on table device (and the journal rows they produce).</summary>
internal sealed partial class PostgresDeviceTable
{
    public IReadOnlyList<DeviceAssignmentState> GetAssignmentStates(Guid tokenId, IReadOnlyCollection<string> serials) => throw Missing("profile assignment");

    public void RecordAssignments(AssignmentRecord record) => throw Missing("profile assignment");

    public IReadOnlyList<string> GetProfileHolders(Guid profileId) => throw Missing("profile assignment");

    public ProfileHolderCounts CountProfileHolders(Guid profileId) => throw Missing("profile assignment");

    public int ReleaseProfileFromRemovedDevices(Guid profileId) => throw Missing("profile assignment");
}
