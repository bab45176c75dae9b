# The demo is part of the suite, so it cannot rot: it must run to the end and show the main job's results.
Describe 'demo/Demo.ps1' {
    It 'runs the whole workflow against the simulator and a fresh store' {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $demo = Join-Path $PSScriptRoot '../../demo/Demo.ps1'
        $output = & $pwsh -NoProfile -NonInteractive -File $demo *>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Match 'Demo finished'
        $output | Should -Match 'DefaultProfileAssigned\s*:\s*5000'
        $output | Should -Match 'Success\s+400'
        $output | Should -Match 'ManualSyncTooSoon'
        $output | Should -Match 'Classroom Shared iPad\s+400'
        $output | Should -Match 'Staff iPhones\s+4600'
    }
}
