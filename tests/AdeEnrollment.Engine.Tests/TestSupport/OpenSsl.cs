using System.ComponentModel;
using System.Diagnostics;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>Runs the openssl CLI, an independent producer of S/MIME tokens. Missing openssl fails the test (it never skips).</summary>
public static class OpenSsl
{
    public static void Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? process = null;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception ex)
        {
            Assert.Fail("The openssl CLI was not found on PATH (" + ex.Message + "). These tests use it as an independent producer of "
                        + "Apple-format server tokens (openssl cms / openssl smime); install OpenSSL 3.x and put 'openssl' on PATH.");
        }

        Assert.True(process is not null, "openssl could not be started.");
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            _ = stdout.Result;
            Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {stderr}");
        }
    }
}
