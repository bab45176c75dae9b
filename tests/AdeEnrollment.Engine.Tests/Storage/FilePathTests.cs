using System.Diagnostics;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Fuzz;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Storage;

/// <summary>Output paths are checked before anything is stored; inputs are regular files read with a limit.</summary>
public sealed class FilePathTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private void NewRequestFails(string errorId, string outFile, bool noClobber = false)
    {
        var before = store.Snapshot();
        AdeAssert.Throws(errorId, () => store.Tokens.NewRequest(true, outFile, noClobber));
        Assert.Equal(before, store.Snapshot()); // no orphan pending request
        Assert.Empty(store.Host.ShouldProcessCalls);
    }

    [Fact]
    public void NewRequest_OutFileIsAFolder_IsOutputPathInvalid_AndNoRequestIsStored()
    {
        NewRequestFails("OutputPathInvalid", store.Temp.Path);
        NewRequestFails("OutputPathInvalid", store.Temp.Path + Path.DirectorySeparatorChar);
    }

    [Fact]
    public void NewRequest_OutFileOfOnlySpaces_IsOutputPathInvalid_AndNoFileIsMade()
    {
        NewRequestFails("OutputPathInvalid", Path.Combine(store.Temp.Path, "   "));
        Assert.False(File.Exists(Path.Combine(store.Temp.Path, "   ")));
    }

    [Theory]
    [InlineData("   ", "names no file")]
    [InlineData("sub/  ", "names no file")]
    [InlineData("a\0b.db", "not a valid file path")]
    [InlineData("a\u001b[2Jb.db", "control or invisible formatting characters")]
    public void A_store_path_the_system_cannot_hold_or_that_names_no_file_is_ArgumentInvalid_and_nothing_is_made(string name, string reason)
    {
        var folder = Path.Combine(store.Temp.Path, "stores");
        Directory.CreateDirectory(folder);
        var ex = AdeAssert.Throws("ArgumentInvalid", () => AdeEnrollment.Engine.Storage.AdeStore.Open(Path.Combine(folder, name)));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("-Path", ex.Message, StringComparison.Ordinal);
        Assert.False(AdeEnrollment.Engine.Rules.TextRules.HasUnsafe(ex.Message));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories));
        Assert.Equal(Path.Combine(folder, "ade.db"), AdeEnrollment.Engine.Storage.StoreLocator.FullPath(Path.Combine(folder, "ade.db")));
    }

    [Fact]
    public void NewRequest_OutFileUnderAFile_IsOutputPathInvalid()
    {
        var file = store.WriteFile("plain.txt", "x");

        NewRequestFails("OutputPathInvalid", Path.Combine(file, "req.pem"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".key")]
    [InlineData("-wal")]
    [InlineData("-shm")]
    public void NewRequest_OutFileIsAFileOfTheStore_IsOutputPathInvalid_AndTheFileIsKept(string suffix)
    {
        var target = store.StorePath + suffix;
        store.NewRequest(); // a secret was written: the key file exists
        store.Host.ShouldProcessCalls.Clear();
        var key = FileBytes.Read(store.StorePath + ".key");

        NewRequestFails("OutputPathInvalid", target);

        Assert.Equal(key, FileBytes.Read(store.StorePath + ".key")); // the db is compared by NewRequestFails; -wal/-shm change with any read
    }

    [Theory]
    [InlineData("")]
    [InlineData(".key")]
    public void NewRequest_OutFileThroughASymlinkedFolderToAFileOfTheStore_IsOutputPathInvalid_AndTheFileIsKept(string suffix)
    {
        store.NewRequest(); // the key file exists
        store.Host.ShouldProcessCalls.Clear();
        var key = FileBytes.Read(store.StorePath + ".key");
        var linked = Path.Combine(store.Temp.Path, "linked-folder");
        Directory.CreateSymbolicLink(linked, Path.GetDirectoryName(store.StorePath)!);
        var chained = Path.Combine(store.Temp.Path, "chained-folder");
        Directory.CreateSymbolicLink(chained, linked); // a link to a link

        NewRequestFails("OutputPathInvalid", Path.Combine(linked, Path.GetFileName(store.StorePath) + suffix));
        NewRequestFails("OutputPathInvalid", Path.Combine(chained, "..", Path.GetFileName(linked), Path.GetFileName(store.StorePath) + suffix));
        NewRequestFails("OutputPathInvalid", Path.Combine(chained, Path.GetFileName(store.StorePath) + suffix));

        Assert.Equal(key, FileBytes.Read(store.StorePath + ".key"));
        Assert.Equal(Path.GetFullPath(store.StorePath), OutputFile.RealPath(Path.Combine(chained, Path.GetFileName(store.StorePath))));
    }

    [Fact]
    public void NewRequest_OutFileThatIsAHardLinkToTheKeyFile_ReplacesTheLinkOnly_AndTheStoreKeepsItsKey()
    {
        store.NewRequest();
        var keyFile = store.StorePath + ".key";
        var key = FileBytes.Read(keyFile);
        var hard = store.Temp.File("another-name.pem");
        using (var ln = Process.Start(new ProcessStartInfo("ln", [keyFile, hard]) { UseShellExecute = false })!)
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        store.Tokens.NewRequest(true, hard, noClobber: false);

        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(hard), StringComparison.Ordinal);
        Assert.Equal(key, FileBytes.Read(keyFile)); // the file behind the other name is untouched
        Assert.Empty(Directory.GetFiles(store.Temp.Path, ".*.tmp")); // no temporary file left behind
        Assert.Equal(2, store.Tokens.GetRequests(pendingOnly: true).Count); // the first request and this one
    }

    [Fact]
    public void NewRequest_NoClobberOnAnExistingFile_IsOutputFileExists_AndTheFileIsUnchanged()
    {
        var path = store.WriteFile("req.pem", "the certificate of another request");

        NewRequestFails("OutputFileExists", path, noClobber: true);

        Assert.Equal("the certificate of another request", File.ReadAllText(path));
    }

    [Fact]
    public void NewRequest_ExistingFileWithoutNoClobber_IsReplaced_AndShouldProcessSaysSo()
    {
        var path = store.WriteFile("req.pem", "old");

        var request = store.Tokens.NewRequest(true, path)!;

        Assert.Equal(request.PublicKeyPem, File.ReadAllText(path));
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Action.Contains("replacing the existing file", StringComparison.Ordinal));
    }

    [Fact]
    public void Export_PathIsAFolderOrNoClobber_IsCatalogued_AndNothingIsWritten()
    {
        store.AddToken("Contoso");
        store.Engine.Profiles.New("Contoso", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        var existing = store.WriteFile("staff.json", "keep me");

        AdeAssert.Throws("OutputPathInvalid", () => store.Engine.Profiles.Export("Staff", null, store.Temp.Path));
        AdeAssert.Throws("OutputFileExists", () => store.Engine.Profiles.Export("Staff", null, existing, noClobber: true));
        AdeAssert.Throws("OutputPathInvalid", () => store.Engine.Profiles.Export("Staff", null, store.StorePath + ".key"));

        Assert.Equal("keep me", File.ReadAllText(existing));
        var json = store.Engine.Profiles.Export("Staff", null, existing); // without -NoClobber: replaced, as Export-Csv does
        Assert.Equal(json + Environment.NewLine, File.ReadAllText(existing));
    }

    private string Fifo(string name)
    {
        var path = store.Temp.File(name);
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Fact]
    public void FileKinds_TellRegularFilesFromFifosDevicesAndFolders()
    {
        Assert.Equal(FileKind.Regular, FileKinds.Of(store.WriteFile("a.txt", "a")));
        Assert.Equal(FileKind.Directory, FileKinds.Of(store.Temp.Path));
        Assert.Equal(FileKind.Missing, FileKinds.Of(store.Temp.File("none")));
        Assert.Equal(FileKind.Special, FileKinds.Of(Fifo("pipe")));
        Assert.Equal(FileKind.Special, FileKinds.Of("/dev/zero"));
        Assert.Equal(FileKind.Special, FileKinds.Of("/dev/null"));
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("folder")]
    public void NewToken_FromAFifoDeviceOrFolder_IsTokenFileInvalid_WithoutBlockingOrReadingIt(string kind)
    {
        var request = store.SeedRequest();
        var path = kind switch { "fifo" => Fifo("token.p7m"), "folder" => store.Temp.Path, _ => kind };
        var before = store.Snapshot();

        var outcome = TokenFileFuzzTests.Run(() => store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com")), kind);

        Assert.Equal("TokenFileInvalid", outcome);
        Assert.Equal(before, store.Snapshot());
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    public void ImportProfile_FromAFifoOrDevice_IsProfileFileInvalid_WithoutBlocking(string kind)
    {
        store.AddToken("Contoso");
        var path = kind == "fifo" ? Fifo("profile.json") : kind;
        var before = store.Snapshot();

        var outcome = TokenFileFuzzTests.Run(() => store.Engine.Profiles.Import("Contoso", path, null), kind);

        Assert.Equal("ProfileFileInvalid", outcome);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void ACertificateFile_WithAChainInPem_GivesEveryCertificate_ADerFileOne_AndAOneCertificateReadRefusesAChain()
    {
        using var temp = new TempDirectory();
        byte[] Cert(string cn)
        {
            using var key = System.Security.Cryptography.ECDsa.Create();
            using var c = new System.Security.Cryptography.X509Certificates.CertificateRequest(cn, key, System.Security.Cryptography.HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            return c.RawData;
        }

        string Pem(byte[] der) => "-----BEGIN CERTIFICATE-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CERTIFICATE-----\n";
        var (leaf, root) = (Cert("CN=Leaf"), Cert("CN=Root"));
        var bundle = temp.File("bundle.pem");
        File.WriteAllText(bundle, Pem(leaf) + Pem(root));
        var der = temp.File("one.cer");
        File.WriteAllBytes(der, root);

        Assert.Equal([Convert.ToBase64String(leaf), Convert.ToBase64String(root)], CertificateFile.ReadAllAsBase64Der("AnchorCertificate", bundle, "bundle.pem"));
        Assert.Equal([Convert.ToBase64String(root)], CertificateFile.ReadAllAsBase64Der("AnchorCertificate", der, "one.cer"));
        var error = Assert.Throws<AdeException>(() => CertificateFile.ReadDer(bundle, "give one certificate.", reason => ErrorCatalog.ProfileSettingInvalid("X", "bundle.pem", reason)));
        Assert.Contains("holds 2 certificates, not one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguratorCertificate_FromAFifo_IsProfileSettingInvalid_WithoutBlocking()
    {
        var path = Fifo("cert.cer");

        var outcome = TokenFileFuzzTests.Run(() => CertificateFile.ReadAllAsBase64Der("ConfiguratorCertificate", path, "cert.cer"), "fifo");

        Assert.Equal("ProfileSettingInvalid", outcome);
    }
}
