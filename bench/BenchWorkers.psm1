<#
    What the benchmark scripts share: long-lived worker processes spoken to one JSON line at a time (bench/RawClient,
    bench/worker.ps1, bench/js/worker.js), medians, and number formatting.
#>
Set-StrictMode -Version Latest

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Get-PwshCommand {
    <# The running pwsh as a command line, whether it is an installed pwsh or the dotnet tool (dotnet pwsh.dll). #>
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $mid = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { return $sorted[$mid] }
    return ($sorted[$mid - 1] + $sorted[$mid]) / 2
}

function Format-Number([double] $Value, [string] $Format = '0') {
    if ([double]::IsNaN($Value)) { return '–' }
    return $Value.ToString($Format, [Globalization.CultureInfo]::InvariantCulture)
}

function Start-Worker([string] $Name, [string[]] $CommandLine, [string] $WorkingDirectory = [IO.Path]::GetTempPath()) {
    $info = [Diagnostics.ProcessStartInfo]::new($CommandLine[0])
    foreach ($a in @($CommandLine | Select-Object -Skip 1)) { $info.ArgumentList.Add($a) }
    $info.UseShellExecute = $false
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.WorkingDirectory = $WorkingDirectory
    $process = [Diagnostics.Process]::Start($info)
    $worker = [pscustomobject]@{ Name = $Name; Process = $process; Stderr = $process.StandardError.ReadToEndAsync() }
    $null = Invoke-Worker $worker @{ op = 'hello' }
    $worker
}

function Invoke-Worker($Worker, [hashtable] $Command) {
    $Worker.Process.StandardInput.WriteLine(($Command | ConvertTo-Json -Compress))
    $Worker.Process.StandardInput.Flush()
    do { $line = $Worker.Process.StandardOutput.ReadLine() } while ($null -ne $line -and -not $line.StartsWith('{'))
    if ($null -eq $line) {
        $null = $Worker.Process.WaitForExit(5000)
        throw "The $($Worker.Name) worker ended: $(if ($Worker.Stderr.IsCompleted) { $Worker.Stderr.Result })"
    }
    $result = $line | ConvertFrom-Json
    if (-not $result.ok) { throw "The $($Worker.Name) worker failed $($Command.op): $($result.error)" }
    $result
}

function Stop-Worker($Worker) {
    try {
        $Worker.Process.StandardInput.WriteLine('{"op":"quit"}')
        $Worker.Process.StandardInput.Close()
        if (-not $Worker.Process.WaitForExit(10000)) { $Worker.Process.Kill($true) }
    }
    catch { }
}


Export-ModuleMember -Function Invoke-Dotnet, Get-PwshCommand, Get-Median, Format-Number, Start-Worker, Invoke-Worker, Stop-Worker
