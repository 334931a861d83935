<#
    The PowerShell value converter (src/AgentMailbox.PowerShell/Json/PSJsonValueConverter.cs) on its own, without a
    server: JSON text in, PowerShell values out, and back. A small C# probe binds delegates to the converter's Read and
    Write by reflection (Read takes a Utf8JsonReader by reference, which PowerShell cannot pass), so the probe works
    whether the converter type is public or internal.
#>
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $module = (Get-Module AgentMailbox).ImplementingAssembly
    if (-not ('AgentMailboxConverterProbe' -as [type])) {
        Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.Reflection;
using System.Text;
using System.Text.Json;

public static class AgentMailboxConverterProbe
{
    private delegate object ReadFn(ref Utf8JsonReader reader);
    private delegate void WriteFn(Utf8JsonWriter writer, object value);
    private static ReadFn s_read;
    private static WriteFn s_write;

    public static void Bind(Assembly module)
    {
        const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
        Type type = module.GetType("AgentMailbox.PowerShell.PSJsonValueConverter", true);
        object instance = type.GetProperty("Instance", any).GetValue(null);
        s_read = (ReadFn)Delegate.CreateDelegate(typeof(ReadFn), instance, type.GetMethod("Read", any, null, new[] { typeof(Utf8JsonReader).MakeByRefType() }, null));
        s_write = (WriteFn)Delegate.CreateDelegate(typeof(WriteFn), instance, type.GetMethod("Write", any, null, new[] { typeof(Utf8JsonWriter), typeof(object) }, null));
    }

    public static object Read(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 2048 });
        reader.Read();
        return s_read(ref reader);
    }

    public static string Write(object value)
    {
        using (var stream = new MemoryStream())
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { MaxDepth = 2048 }))
            {
                s_write(writer, value);
            }
            return Encoding.UTF8.GetString(stream.ToArray());
        }
    }
}
'@
    }
    [AgentMailboxConverterProbe]::Bind($module)
    function Read-Json([string] $Text) { , [AgentMailboxConverterProbe]::Read($Text) }
    function Write-Json($Value) { [AgentMailboxConverterProbe]::Write($Value) }
    function New-Nested([string] $Kind, [int] $Levels) {
        <# $Levels containers, one inside the other; the innermost holds the string 'bottom'. #>
        $node = 'bottom'
        for ($i = 0; $i -lt $Levels; $i++) {
            $node = switch ($Kind) {
                'hashtable' { @{ next = $node } }
                'ordered' { [ordered]@{ next = $node } }
                'pscustomobject' { [pscustomobject]@{ next = $node } }
                'array' { $a = [object[]]::new(1); $a[0] = $node; , $a }
            }
        }
        , $node
    }
}

Describe 'Reading JSON into PowerShell values' {
    It 'makes an object a PSCustomObject, property order kept' {
        $value = Read-Json '{"b":1,"a":"x","c":null}'
        $value | Should -BeOfType ([System.Management.Automation.PSCustomObject])
        @($value.PSObject.Properties.Name) | Should -Be @('b', 'a', 'c')
        $value.a | Should -Be 'x'
        $value.c | Should -BeNullOrEmpty
    }

    It 'keeps a name PowerShell reserves (<Name>) by making the object an ordered dictionary' -ForEach @(
        @{ Name = 'PSObject' }, @{ Name = 'psbase' }, @{ Name = 'PSAdapted' }, @{ Name = 'PSExtended' }, @{ Name = 'pstypenames' }
    ) {
        $value = Read-Json "{`"$Name`":1,`"ok`":2}"
        $value | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
        @($value.Keys) | Should -Be @($Name, 'ok')
        $value[$Name] | Should -Be 1
        $value.ok | Should -Be 2
        Write-Json $value | Should -Be "{`"$Name`":1,`"ok`":2}"
    }

    It 'keeps names that differ only in case apart (an ordered dictionary with ordinal keys)' {
        $value = Read-Json '{"name":1,"Name":2,"NAME":3}'
        $value | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
        @($value.Keys) | Should -Be @('name', 'Name', 'NAME')
        $value['name'] | Should -Be 1
        $value['Name'] | Should -Be 2
        $value['NAME'] | Should -Be 3
        Write-Json $value | Should -Be '{"name":1,"Name":2,"NAME":3}'
    }

    It 'keeps case variants apart in a large object too (the hashed path, over 16 names)' {
        $names = (1..20 | ForEach-Object { "`"k$_`":$_" }) -join ','
        $value = Read-Json "{$names,`"K7`":70}"
        $value | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
        $value['k7'] | Should -Be 7
        $value['K7'] | Should -Be 70
    }

    It 'makes an empty name an ordered dictionary key' {
        $value = Read-Json '{"":1,"a":2}'
        $value | Should -BeOfType ([System.Collections.Specialized.OrderedDictionary])
        $value[''] | Should -Be 1
    }

    It 'keeps a repeated name''s first place and last value, as JSON.parse does' {
        $value = Read-Json '{"a":1,"b":2,"a":3}'
        $value | Should -BeOfType ([System.Management.Automation.PSCustomObject])
        @($value.PSObject.Properties.Name) | Should -Be @('a', 'b')
        $value.a | Should -Be 3
    }

    It 'leaves <Text> a string, never a date' -ForEach @(
        @{ Text = '2024-01-02T03:04:05Z' }, @{ Text = '2024-01-02T03:04:05.1234567+02:00' }, @{ Text = '2024-01-02' }, @{ Text = '01/02/2024 03:04:05' }
    ) {
        $value = Read-Json "{`"at`":`"$Text`"}"
        $value.at | Should -BeOfType ([string])
        $value.at | Should -BeExactly $Text
        $again = Read-Json (Write-Json $value)
        $again.at | Should -BeOfType ([string])
        $again.at | Should -BeExactly $Text
    }

    It 'reads <Json> as <Type>' -ForEach @(
        @{ Json = '42'; Type = [int] }
        @{ Json = '9007199254740993'; Type = [long] }
        @{ Json = '2.5'; Type = [decimal] }
        @{ Json = '79228162514264337593543950336'; Type = [double] }
        @{ Json = '1e3'; Type = [double] }
        @{ Json = 'true'; Type = [bool] }
    ) {
        $value = Read-Json $Json
        $value | Should -BeOfType $Type
    }

    It 'reads an array nested <Levels> deep and an object nested <Levels> deep' -ForEach @(@{ Levels = 256 }, @{ Levels = 1000 }) {
        $array = Read-Json (('[' * $Levels) + '"bottom"' + (']' * $Levels))
        $node = $array
        $arrays = 0
        while ($node -is [object[]]) { $arrays++; $node = $node[0] }
        $arrays | Should -Be $Levels
        $node | Should -Be 'bottom'
        $object = Read-Json (('{"next":' * $Levels) + '"bottom"' + ('}' * $Levels))
        $node = $object
        $objects = 0
        while ($node -is [System.Management.Automation.PSCustomObject]) { $objects++; $node = $node.next }
        $objects | Should -Be $Levels
        $node | Should -Be 'bottom'
    }

    It 'reads a large array whole and in order' {
        $count = 200000
        $array = Read-Json ('[' + ((0..($count - 1)) -join ',') + ']')
        $array.Count | Should -Be $count
        $array[0] | Should -Be 0
        $array[123456] | Should -Be 123456
        $array[-1] | Should -Be ($count - 1)
        $objects = Read-Json ('[' + ((0..9999 | ForEach-Object { "{`"i`":$_}" }) -join ',') + ']')
        $objects.Count | Should -Be 10000
        $objects[9999].i | Should -Be 9999
    }
}

Describe 'Writing PowerShell values as JSON' {
    It 'writes hashtables, ordered dictionaries, PSCustomObjects, arrays and scalars' {
        Write-Json ([ordered]@{ a = 1; b = @(1, 'two', $null, $true); c = [pscustomobject]@{ d = 2.5 } }) | Should -Be '{"a":1,"b":[1,"two",null,true],"c":{"d":2.5}}'
        Write-Json @{ only = 'one' } | Should -Be '{"only":"one"}'
        Write-Json $null | Should -Be 'null'
    }

    It 'writes values that are not plain JSON as the README says' {
        $at = [datetime]::new(2024, 1, 2, 3, 4, 5, [DateTimeKind]::Utc)
        Write-Json ([ordered]@{
                at    = $at
                kind  = [System.IO.FileAttributes]'Hidden, ReadOnly'
                bytes = [byte[]](1, 2, 3)
                id    = [guid]'6f5c0f3e-2b7a-4d43-9d0e-5a8b1c2d7e41'
                span  = [timespan]::FromSeconds(90)
                ver   = [version]'1.2.3'
            }) | Should -Be '{"at":"2024-01-02T03:04:05.0000000Z","kind":"ReadOnly, Hidden","bytes":"AQID","id":"6f5c0f3e-2b7a-4d43-9d0e-5a8b1c2d7e41","span":"00:01:30","ver":"1.2.3"}'
    }

    It 'writes a <Kind> nested 256 levels deep whole' -ForEach @(
        @{ Kind = 'hashtable' }, @{ Kind = 'ordered' }, @{ Kind = 'pscustomobject' }, @{ Kind = 'array' }
    ) {
        $text = Write-Json (New-Nested $Kind 256)
        $expected = if ($Kind -eq 'array') { ('[' * 256) + '"bottom"' + (']' * 256) } else { ('{"next":' * 256) + '"bottom"' + ('}' * 256) }
        $text | Should -BeExactly $expected
    }

    It 'refuses a <Kind> nested 257 levels deep, naming the limit' -ForEach @(
        @{ Kind = 'hashtable' }, @{ Kind = 'pscustomobject' }, @{ Kind = 'array' }
    ) {
        { Write-Json (New-Nested $Kind 257) } | Should -Throw '*deeper than 256 levels*'
    }

    It 'refuses a cycle, naming where' {
        $self = @{ name = 'loop' }
        $self.self = $self
        $caught = { Write-Json $self } | Should -Throw -PassThru
        $caught.Exception.Message | Should -Match ([regex]::Escape('$.self'))
    }

    It 'refuses <Name>, naming where' -ForEach @(
        @{ Name = 'NaN'; Value = [ordered]@{ n = [double]::NaN }; Where = '$.n' }
        @{ Name = 'infinity'; Value = [ordered]@{ list = @(1, [double]::PositiveInfinity) }; Where = '$.list[1]' }
        @{ Name = 'a script block inside a value'; Value = [ordered]@{ run = { 1 } }; Where = '$.run' }
    ) {
        $caught = { Write-Json $Value } | Should -Throw -PassThru
        $caught.Exception.Message | Should -Match ([regex]::Escape($Where))
    }

    It 'writes a large array whole and in order' {
        $list = [System.Collections.Generic.List[object]]::new()
        foreach ($i in 0..199999) { $list.Add($i) }
        $text = Write-Json $list
        $text | Should -BeExactly ('[' + ((0..199999) -join ',') + ']')
    }

    It 'round-trips what it reads, reserved and case-variant names included' {
        $text = '{"PSObject":{"psbase":[1,{"a":1,"A":2}]},"n":1.5,"s":"2024-01-02T03:04:05Z","deep":' + ('[' * 250) + '1' + (']' * 250) + '}'
        Write-Json (Read-Json $text) | Should -BeExactly $text
    }
}
