# The simulator loads into the AdeEnrollment module's AssemblyLoadContext (RequiredModules imports AdeEnrollment
# first), so both modules use one engine and Set-AdeSimClock moves the clock the AdeEnrollment cmdlets read.
$main = [AdeEnrollment.Loader.LoadContext]::Initialize([IO.Path]::Combine($PSScriptRoot, 'AdeEnrollment.Simulator.dll'))
$inner = Import-Module -Assembly $main -PassThru -DisableNameChecking
$addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod('AddExportedCmdlet', [Reflection.BindingFlags]'Instance, NonPublic')
foreach ($cmdlet in $inner.ExportedCmdlets.Values) {
    $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
}

# Remove-Module (or a forced re-import) stops the simulators of this process (every runspace's: they share the one
# simulated clock) and makes time real again: the AdeEnrollment
# cmdlets that stay loaded must not go on reading a simulated clock, and no listener may outlive its cmdlets.
$stopAll = $main.GetType('AdeEnrollment.Simulator.Host.SimulatorSession', $true).GetMethod('StopAll', [Reflection.BindingFlags]'Static, NonPublic')
$ExecutionContext.SessionState.Module.OnRemove = { $null = $stopAll.Invoke($null, @()) }.GetNewClosure()
