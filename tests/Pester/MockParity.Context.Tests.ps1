<#
    HTTP-level parity of the mock server with the reference server (npm agentsmcp@0.5.2) for the context routes:
    graph, codebase index and git-style snapshots. One scripted scenario of raw requests runs against a fresh server
    of each kind; every step must give the same status, the same content type and the same body, byte for byte, once
    the values that are random or depend on the clock are replaced: request ids, UUIDs (numbered by first
    appearance, so parent links and restore targets still have to agree) and timestamps (replaced by their rank
    among the run's values of the same field, so "unchanged" and "newer" still have to agree). Snapshot hashes are
    compared as they are. Each step also states the status the reference server is expected to give, so a scenario
    that stopped exercising a quirk would show.
#>
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../tools/Servers.psm1') -Force
    $script:noReference = -not (Get-ReferenceServerScript)

    $steps = [System.Collections.Generic.List[hashtable]]::new()
    function Step([string] $Name, [string] $Method, [string] $Path, $Body, [int] $Expect, [string] $Capture, [string] $ContentType = 'application/json; charset=utf-8') {
        $steps.Add(@{ Index = $steps.Count; Name = $Name; Method = $Method; Path = $Path; Body = $Body; Expect = $Expect; Capture = $Capture; ContentType = $ContentType })
    }
    function Enc([string] $s) { [Uri]::EscapeDataString($s) }

    $deep = ('{"d":' * 63) + '"bottom"' + ('}' * 63)   # metadata nested 64 objects deep
    $a = '/mailbox/alice'

    # ---- agents
    Step 'register alice' POST '/agents/register' '{"agentId":"alice"}' 201
    Step 'register bob' POST '/agents/register' '{"agentId":"bob"}' 201
    Step 'register an agent id with / space @ and unicode' POST '/agents/register' '{"agentId":"ag/ent 1@x ü"}' 201

    # ---- graph: node validation
    Step 'node: empty body' POST "$a/graph/nodes" '{}' 400
    Step 'node: empty id' POST "$a/graph/nodes" '{"id":"","type":"file","name":"x"}' 400
    Step 'node: numeric id' POST "$a/graph/nodes" '{"id":5,"type":"file","name":"x"}' 400
    Step 'node: unknown type' POST "$a/graph/nodes" '{"id":"n","type":"folder","name":"x"}' 400
    Step 'node: type in upper case' POST "$a/graph/nodes" '{"id":"n","type":"FILE","name":"x"}' 400
    Step 'node: missing name' POST "$a/graph/nodes" '{"id":"n","type":"file"}' 400
    Step 'node: array metadata' POST "$a/graph/nodes" '{"id":"n","type":"file","name":"x","metadata":[1]}' 400
    Step 'node: string metadata' POST "$a/graph/nodes" '{"id":"n","type":"file","name":"x","metadata":"m"}' 400
    Step 'node: array body' POST "$a/graph/nodes" '[{"id":"n","type":"file","name":"x"}]' 400
    Step 'node: non-JSON content type is an empty body' POST "$a/graph/nodes" '{"id":"n","type":"file","name":"x"}' 400 -ContentType 'text/plain'
    Step 'node: wrong method is Express''s HTML 404' PUT "$a/graph/nodes" '{}' 404

    # ---- graph: nodes of the five types, odd values
    Step 'node n1 (file, deep metadata)' POST "$a/graph/nodes" ('{"id":"n1","type":"file","name":"Parser core","description":"parses the INPUT","metadata":{"lang":"ts","n":1.50,"big":1e21,"2":"two","1":"one","deep":' + $deep + '}}') 200
    Step 'node n2 (symbol, null metadata)' POST "$a/graph/nodes" '{"id":"n2","type":"symbol","name":"parse()","metadata":null}' 200
    Step 'node n3 (decision, empty description)' POST "$a/graph/nodes" '{"id":"n3","type":"decision","name":"Use 100% coverage","description":""}' 200
    Step 'node n4 (task, numeric description dropped)' POST "$a/graph/nodes" '{"id":"n4","type":"task","name":"task_x","description":42,"extra":"ignored"}' 200
    Step 'node n5 (message, unicode)' POST "$a/graph/nodes" '{"id":"n5","type":"message","name":"ünï 😀 Note","metadata":{"k":"v"}}' 200
    Step 'node through a case-changed path with a trailing slash' POST '/MAILBOX/alice/Graph/Nodes/' '{"id":"n6","type":"file","name":"Zeta","description":"unrelated"}' 200
    Step 'bob''s node b1' POST '/mailbox/bob/graph/nodes' '{"id":"b1","type":"file","name":"Parser of bob"}' 200

    # ---- graph: edge validation and upserts
    Step 'edge: missing sourceId' POST "$a/graph/edges" '{"targetId":"n2","type":"calls"}' 400
    Step 'edge: numeric targetId' POST "$a/graph/edges" '{"sourceId":"n1","targetId":5,"type":"calls"}' 400
    Step 'edge: empty type' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":""}' 400
    Step 'edge: weight 0' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls","weight":0}' 400
    Step 'edge: negative weight' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls","weight":-1}' 400
    Step 'edge: weight null is Number(null) = 0' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls","weight":null}' 400
    Step 'edge: weight "abc"' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls","weight":"abc"}' 400
    Step 'edge n1-n2 with the default weight' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls"}' 200
    Step 'edge n2-n3 weight "2.5" coerced' POST "$a/graph/edges" '{"sourceId":"n2","targetId":"n3","type":"refs","weight":"2.5"}' 200
    Step 'edge n3-n4' POST "$a/graph/edges" '{"sourceId":"n3","targetId":"n4","type":"leads"}' 200
    Step 'edge n4-n5' POST "$a/graph/edges" '{"sourceId":"n4","targetId":"n5","type":"leads","weight":0.25}' 200
    Step 'edge to bob''s node' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"b1","type":"shares"}' 200
    Step 'edge to a node nobody has' POST "$a/graph/edges" '{"sourceId":"n2","targetId":"ghost","type":"refs"}' 200
    Step 'self edge' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n1","type":"self"}' 200
    Step 'edge upsert changes the weight' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"calls","weight":3}' 200
    Step 'second edge type between the same nodes' POST "$a/graph/edges" '{"sourceId":"n1","targetId":"n2","type":"abc"}' 200

    # ---- graph: query
    Step 'query: q missing' GET "$a/graph/query" $null 400
    Step 'query: q empty' GET "$a/graph/query?q=" $null 400
    Step 'query: lower case finds Parser (case-insensitive), depth 2 walk' GET "$a/graph/query?q=parser" $null 200
    Step 'query: depth 1' GET "$a/graph/query?q=PARSER&depth=1" $null 200
    Step 'query: depth 5, limit 2' GET "$a/graph/query?q=parse&depth=5&limit=2" $null 200
    Step 'query: limit 0 clamps to 1, depth abc defaults' GET "$a/graph/query?q=parse&limit=0&depth=abc" $null 200
    Step 'query: depth 99 clamps to 5' GET "$a/graph/query?q=task&depth=99" $null 200
    Step 'query: matches the description' GET "$a/graph/query?q=INPUT&depth=1" $null 200
    Step 'query: % is a LIKE wildcard' GET "$a/graph/query?q=$(Enc '%')&depth=1" $null 200
    Step 'query: _ is a LIKE wildcard' GET "$a/graph/query?q=$(Enc 'task_')&depth=1" $null 200
    Step 'query: 100% literally' GET "$a/graph/query?q=$(Enc '100%')&depth=1" $null 200
    Step 'query: non-ASCII is case-sensitive' GET "$a/graph/query?q=$(Enc 'ÜNÏ')" $null 200
    Step 'query: unicode match' GET "$a/graph/query?q=$(Enc 'ünï 😀')&depth=1" $null 200
    Step 'query: + in the query string is a space' GET "$a/graph/query?q=Parser+core&depth=1" $null 200
    Step 'query: no match' GET "$a/graph/query?q=nothing-here" $null 200
    Step 'query: fractional limit fails in SQLite' GET "$a/graph/query?q=parse&limit=2.5" $null 500
    Step 'query: fractional limit without seeds never reaches SQLite' GET "$a/graph/query?q=nothing&limit=2.5" $null 200
    Step 'query: bob walks into alice''s nodes (edges are global)' GET '/mailbox/bob/graph/query?q=bob' $null 200
    Step 'query: another agent sees none of alice''s nodes' GET '/mailbox/carol/graph/query?q=parser' $null 200

    # ---- graph: deletes
    Step 'edge delete: missing type' DELETE "$a/graph/edges" '{"sourceId":"n3","targetId":"n4"}' 400
    Step 'edge delete: empty sourceId' DELETE "$a/graph/edges" '{"sourceId":"","targetId":"n4","type":"leads"}' 400
    Step 'edge delete n3-n4' DELETE "$a/graph/edges" '{"sourceId":"n3","targetId":"n4","type":"leads"}' 200
    Step 'edge delete again: still success' DELETE "$a/graph/edges" '{"sourceId":"n3","targetId":"n4","type":"leads"}' 200
    Step 'node delete of a missing node: success' DELETE "$a/graph/nodes/nope" $null 200
    Step 'bob deleting "n3" cascades alice''s edges to n3' DELETE '/mailbox/bob/graph/nodes/n3' $null 200
    Step 'node delete n5 cascades its edges' DELETE "$a/graph/nodes/n5" $null 200
    Step 'query after the deletes' GET "$a/graph/query?q=$(Enc '%')&depth=5" $null 200

    # ---- index: validation
    Step 'index: empty body' POST "$a/index" '{}' 400
    Step 'index: bad category' POST "$a/index" '{"key":"k","category":"files","summary":"s"}' 400
    Step 'index: empty summary' POST "$a/index" '{"key":"k","category":"file","summary":""}' 400
    Step 'index: numeric key' POST "$a/index" '{"key":1,"category":"file","summary":"s"}' 400
    Step 'index: array metadata' POST "$a/index" '{"key":"k","category":"file","summary":"s","metadata":[]}' 400

    # ---- index: upserts of all seven categories and odd keys
    Step 'index src/a.ts (server-only fields ignored)' POST "$a/index" '{"key":"src/a.ts","category":"file","summary":"Parses tokens","metadata":{"lines":120},"contentHash":"abc","parentKey":"p","indexedBy":"me","stale":true}' 200
    Step 'index "src/b c.ts"' POST "$a/index" '{"key":"src/b c.ts","category":"symbol","summary":"Builds the AST"}' 200
    Step 'index 50%' POST "$a/index" '{"key":"50%","category":"api","summary":"percent key"}' 200
    Step 'index a#b?c+d@e' POST "$a/index" '{"key":"a#b?c+d@e","category":"config","summary":"reserved characters"}' 200
    Step 'index unicode key with a slash' POST "$a/index" '{"key":"ünï/😀","category":"architecture","summary":"Unicode SRC note"}' 200
    Step 'index key with a trailing slash' POST "$a/index" '{"key":"dir/","category":"module","summary":"trailing"}' 200
    Step 'index deep metadata' POST "$a/index" ('{"key":"deep","category":"overview","summary":"deep one","metadata":' + $deep + '}') 200
    Step 'index under the odd agent id' POST "/mailbox/$(Enc 'ag/ent 1@x ü')/index" '{"key":"x y","category":"file","summary":"odd agent"}' 200

    # ---- index: get
    Step 'get src/a.ts with a raw slash' GET "$a/index/src/a.ts" $null 200
    Step 'get src/a.ts with %2F' GET "$a/index/$(Enc 'src/a.ts')" $null 200
    Step 'get "src/b c.ts"' GET "$a/index/src/$(Enc 'b c.ts')" $null 200
    Step 'get 50%' GET "$a/index/$(Enc '50%')" $null 200
    Step 'get a#b?c+d@e' GET "$a/index/$(Enc 'a#b?c+d@e')" $null 200
    Step 'get the unicode key' GET "$a/index/$(Enc 'ünï/😀')" $null 200
    Step 'get dir/ (the trailing slash belongs to the key)' GET "$a/index/dir/" $null 200
    Step 'get dir without the slash' GET "$a/index/dir" $null 404
    Step 'get deep' GET "$a/index/deep" $null 200
    Step 'get under the odd agent id' GET "/mailbox/$(Enc 'ag/ent 1@x ü')/index/$(Enc 'x y')" $null 200
    Step 'get a missing key' GET "$a/index/src/none.ts" $null 404
    Step 'get with an empty key' GET "$a/index/" $null 404
    Step 'get with a bad escape' GET "$a/index/50%zz" $null 400
    Step 'get src/a.ts as bob' GET '/mailbox/bob/index/src/a.ts' $null 404

    # ---- index: search
    Step 'search: q missing' GET "$a/index" $null 400
    Step 'search: bad category' GET "$a/index?q=src&category=files" $null 400
    Step 'search: src (key or summary), newest first' GET "$a/index?q=src" $null 200
    Step 'search: case-insensitive' GET "$a/index?q=SRC" $null 200
    Step 'search: category filter' GET "$a/index?q=src&category=file" $null 200
    Step 'search: empty category means none' GET "$a/index?q=src&category=" $null 200
    Step 'search: limit 1' GET "$a/index?q=src&limit=1" $null 200
    Step 'search: limit 999 clamps to 200' GET "$a/index?q=e&limit=999" $null 200
    Step 'search: % matches everything' GET "$a/index?q=$(Enc '%')" $null 200
    Step 'search: _ matches one character' GET "$a/index?q=$(Enc 'a#b_c')" $null 200
    Step 'search: fractional limit fails in SQLite' GET "$a/index?q=src&limit=1.5" $null 500

    # ---- index: rollup and its parent links
    Step 'rollup: missing moduleKey' POST "$a/index/rollup" '{"fileKeys":["a"]}' 400
    Step 'rollup: empty fileKeys' POST "$a/index/rollup" '{"moduleKey":"src","fileKeys":[]}' 400
    Step 'rollup: numeric file key' POST "$a/index/rollup" '{"moduleKey":"src","fileKeys":["a",1]}' 400
    Step 'rollup: null file key' POST "$a/index/rollup" '{"moduleKey":"src","fileKeys":[null]}' 400
    Step 'rollup: 501 keys' POST "$a/index/rollup" ('{"moduleKey":"src","fileKeys":[' + ((1..501 | ForEach-Object { '"k"' }) -join ',') + ']}') 400
    Step 'rollup src with a missing key and a duplicate' POST "$a/index/rollup" '{"moduleKey":"src","fileKeys":["src/a.ts","src/missing.ts","src/b c.ts","src/a.ts"]}' 200
    Step 'the module entry' GET "$a/index/src" $null 200
    Step 'a child has parentKey' GET "$a/index/src/a.ts" $null 200
    Step 'a child read twice keeps updatedAt' GET "$a/index/src/$(Enc 'b c.ts')" $null 200
    Step 'rollup into an existing file entry keeps its category' POST "$a/index/rollup" '{"moduleKey":"50%","fileKeys":["deep"]}' 200
    Step 'that entry now' GET "$a/index/$(Enc '50%')" $null 200
    Step 're-upserting a child clears parentKey' POST "$a/index" '{"key":"src/a.ts","category":"file","summary":"Parses tokens"}' 200
    Step 'the child after the upsert' GET "$a/index/src/a.ts" $null 200
    Step 'the untouched child' GET "$a/index/src/$(Enc 'b c.ts')" $null 200

    # ---- index: staleness
    Step 'staleness: entries missing' POST "$a/index/check-staleness" '{}' 400
    Step 'staleness: entries not an array' POST "$a/index/check-staleness" '{"entries":{"key":"a"}}' 400
    Step 'staleness: entry without currentHash' POST "$a/index/check-staleness" '{"entries":[{"key":"src/a.ts"}]}' 400
    Step 'staleness: 501 entries' POST "$a/index/check-staleness" ('{"entries":[' + ((1..501 | ForEach-Object { '{"key":"k","currentHash":"h"}' }) -join ',') + ']}') 400
    Step 'staleness: empty list' POST "$a/index/check-staleness" '{"entries":[]}' 200
    Step 'staleness: every existing entry is stale' POST "$a/index/check-staleness" '{"entries":[{"key":"src/a.ts","currentHash":"h1"},{"key":"nope","currentHash":"h2"},{"key":"src/b c.ts","currentHash":"h3"},{"key":"src/a.ts","currentHash":"h1"}]}' 200
    Step 'a flagged entry' GET "$a/index/src/a.ts" $null 200
    Step 'search shows the flags' GET "$a/index?q=src" $null 200
    Step 'an upsert clears stale' POST "$a/index" '{"key":"src/b c.ts","category":"symbol","summary":"Builds the AST"}' 200
    Step 'the entry after the upsert' GET "$a/index/src/$(Enc 'b c.ts')" $null 200

    # ---- index: delete
    Step 'delete with %2F' DELETE "$a/index/$(Enc 'ünï/😀')" $null 200
    Step 'deleted' GET "$a/index/$(Enc 'ünï/😀')" $null 404
    Step 'delete with a raw slash' DELETE "$a/index/dir/" $null 200
    Step 'delete a missing key: success' DELETE "$a/index/no/such/key" $null 200

    # ---- git: commit
    Step 'commit: message missing' POST "$a/git/commit" '{}' 400
    Step 'commit: empty message' POST "$a/git/commit" '{"message":""}' 400
    Step 'commit: keepLast 0' POST "$a/git/commit" '{"message":"m","keepLast":0}' 400
    Step 'commit: keepLast "abc"' POST "$a/git/commit" '{"message":"m","keepLast":"abc"}' 400
    Step 'commit: keepLast null is 0' POST "$a/git/commit" '{"message":"m","keepLast":null}' 400
    Step 'commit for a never registered agent: 500 FOREIGN KEY' POST '/mailbox/carol/git/commit' '{"message":"m"}' 500
    Step 'commit c1 on main' POST "$a/git/commit" '{"message":"c1"}' 201 -Capture c1
    Step 'commit c2 on main (parent c1)' POST "$a/git/commit" '{"message":"c2","branch":"main"}' 201 -Capture c2
    Step 'commit f1 on feature (no parent)' POST "$a/git/commit" '{"message":"f1","branch":"feature"}' 201 -Capture f1
    Step 'bob commits an empty snapshot' POST '/mailbox/bob/git/commit' '{"message":"bob 1"}' 201 -Capture b1

    # ---- git: log and get
    Step 'log' GET "$a/git/log" $null 200
    Step 'log of feature' GET "$a/git/log?branch=feature" $null 200
    Step 'log limit 1' GET "$a/git/log?limit=1" $null 200
    Step 'log limit 0 clamps to 1' GET "$a/git/log?limit=0" $null 200
    Step 'log limit abc is 20' GET "$a/git/log?limit=abc" $null 200
    Step 'log of a branch with no commits' GET "$a/git/log?branch=none" $null 200
    Step 'commit c1 with its snapshot' GET "$a/git/commits/{c1}" $null 200
    Step 'bob''s commit with its empty snapshot' GET '/mailbox/bob/git/commits/{b1}' $null 200
    Step 'alice''s commit asked as bob' GET '/mailbox/bob/git/commits/{c1}' $null 404
    Step 'a missing commit' GET "$a/git/commits/nope" $null 404

    # ---- git: change the live state, then diff
    Step 'rename n1' POST "$a/graph/nodes" ('{"id":"n1","type":"file","name":"Parser core v2","description":"parses the INPUT","metadata":{"lang":"ts","n":1.5,"big":1e21,"1":"one","2":"two","deep":' + $deep + '}}') 200
    Step 'retype n2 (type is not a modification)' POST "$a/graph/nodes" '{"id":"n2","type":"task","name":"parse()"}' 200
    Step 'change n6 metadata' POST "$a/graph/nodes" '{"id":"n6","type":"file","name":"Zeta","description":"unrelated","metadata":{"v":2}}' 200
    Step 'add n7' POST "$a/graph/nodes" '{"id":"n7","type":"task","name":"New parser task"}' 200
    Step 'edge n7-n1' POST "$a/graph/edges" '{"sourceId":"n7","targetId":"n1","type":"calls"}' 200
    Step 'delete n4' DELETE "$a/graph/nodes/n4" $null 200
    Step 'recategorize deep (category is not a modification)' POST "$a/index" ('{"key":"deep","category":"file","summary":"deep one","metadata":' + $deep + '}') 200
    Step 'change a summary' POST "$a/index" '{"key":"a#b?c+d@e","category":"config","summary":"reserved characters, changed"}' 200
    Step 'add an entry' POST "$a/index" '{"key":"new.md","category":"overview","summary":"added later"}' 200
    Step 'delete an entry' DELETE "$a/index/src/$(Enc 'b c.ts')" $null 200
    Step 'diff: from missing' GET "$a/git/diff" $null 400
    Step 'diff: from c1 to live (omitted)' GET "$a/git/diff?from={c1}" $null 200
    Step 'diff: from c1 to=live' GET "$a/git/diff?from={c1}&to=live" $null 200
    Step 'diff: from c1 to c2' GET "$a/git/diff?from={c1}&to={c2}" $null 200
    Step 'diff: unknown from' GET "$a/git/diff?from=nope" $null 404
    Step 'diff: unknown to' GET "$a/git/diff?from={c1}&to=nope" $null 404
    Step 'diff: bob''s commit from alice' GET "$a/git/diff?from={b1}" $null 404
    Step 'commit f2 on feature' POST "$a/git/commit" '{"message":"f2","branch":"feature"}' 201 -Capture f2
    Step 'diff: from c2 to f2' GET "$a/git/diff?from={c2}&to={f2}" $null 200

    # ---- git: merge
    Step 'merge: fromBranch missing' POST "$a/git/merge" '{"toBranch":"main"}' 400
    Step 'merge: toBranch missing' POST "$a/git/merge" '{"fromBranch":"feature"}' 400
    Step 'merge: unknown strategy' POST "$a/git/merge" '{"fromBranch":"feature","toBranch":"main","strategy":"rebase"}' 400
    Step 'merge: from a branch with no commits' POST "$a/git/merge" '{"fromBranch":"nobranch","toBranch":"main"}' 404
    Step 'merge: into a branch with no commits' POST "$a/git/merge" '{"fromBranch":"feature","toBranch":"nobranch"}' 404
    Step 'live graph before the merge' GET "$a/graph/query?q=$(Enc '%')&depth=5" $null 200
    Step 'merge feature into main (union, default message)' POST "$a/git/merge" '{"fromBranch":"feature","toBranch":"main"}' 201 -Capture m1
    Step 'the union commit' GET "$a/git/commits/{m1}" $null 200
    Step 'the live graph is the merge result' GET "$a/graph/query?q=$(Enc '%')&depth=5" $null 200
    Step 'the live index is the merge result' GET "$a/index?q=$(Enc '%')" $null 200
    Step 'merge main into feature, theirs, own message' POST "$a/git/merge" '{"fromBranch":"main","toBranch":"feature","strategy":"theirs","message":"take main"}' 201 -Capture m2
    Step 'merge feature into main, ours' POST "$a/git/merge" '{"fromBranch":"feature","toBranch":"main","strategy":"ours"}' 201 -Capture m3
    Step 'the ours commit' GET "$a/git/commits/{m3}" $null 200
    Step 'log after the merges' GET "$a/git/log" $null 200

    # ---- git: restore
    Step 'restore an unknown commit' POST "$a/git/restore/nope" $null 404
    Step 'restore bob''s commit as alice' POST "$a/git/restore/{b1}" $null 404
    Step 'restore c1' POST "$a/git/restore/{c1}" $null 200
    Step 'the live graph after the restore' GET "$a/graph/query?q=$(Enc '%')&depth=5" $null 200
    Step 'the live index after the restore' GET "$a/index?q=$(Enc '%')" $null 200
    Step 'a rolled-up child keeps parentKey through a snapshot' GET "$a/index/src/$(Enc 'b c.ts')" $null 200
    Step 'diff c1 to live after the restore is empty' GET "$a/git/diff?from={c1}" $null 200

    # ---- git: delete and keepLast
    Step 'delete a commit that is a parent: 500 FOREIGN KEY' DELETE "$a/git/commits/{c1}" $null 500
    Step 'delete an unknown commit' DELETE "$a/git/commits/nope" $null 404
    Step 'delete alice''s commit as bob' DELETE '/mailbox/bob/git/commits/{m3}' $null 404
    Step 'delete the head of main' DELETE "$a/git/commits/{m3}" $null 200
    Step 'deleted commit is gone' GET "$a/git/commits/{m3}" $null 404
    Step 'commit after deleting the head (parent is the previous one)' POST "$a/git/commit" '{"message":"c3"}' 201
    Step 'keepLast 2 on main: pruning hits a parent, 500' POST "$a/git/commit" '{"message":"c4","keepLast":2}' 500
    Step 'keepLast 1.5: SQLite refuses the offset, 500' POST "$a/git/commit" '{"message":"c5","keepLast":1.5}' 500
    Step 'keepLast "1" on a new branch: nothing to prune' POST "$a/git/commit" '{"message":"s1","branch":"solo","keepLast":"1"}' 201
    Step 'log: the failed keepLast commits were stored anyway' GET "$a/git/log?limit=100" $null 200
    Step 'log of main' GET "$a/git/log?branch=main" $null 200

    # ---- JavaScript values the server binds into SQLite as they are
    $u = '/mailbox/uni'
    Step 'register uni' POST '/agents/register' '{"agentId":"uni"}' 201
    Step 'uni node z' POST "$u/graph/nodes" '{"id":"z","type":"file","name":"hub"}' 200
    Step 'uni node Ａ (U+FF21)' POST "$u/graph/nodes" '{"id":"\uff21","type":"file","name":"fullwidth"}' 200
    Step 'uni node 😀 (U+1F600)' POST "$u/graph/nodes" '{"id":"😀","type":"file","name":"emoji"}' 200
    Step 'uni node B' POST "$u/graph/nodes" '{"id":"B","type":"file","name":"leaf B, alpha,beta"}' 200
    Step 'uni node a' POST "$u/graph/nodes" '{"id":"a","type":"file","name":"leaf a"}' 200
    Step 'edge q1-z' POST "$u/graph/edges" '{"sourceId":"q1","targetId":"z","type":"t"}' 200
    Step 'edge a-z' POST "$u/graph/edges" '{"sourceId":"a","targetId":"z","type":"t"}' 200
    Step 'edge z-😀' POST "$u/graph/edges" '{"sourceId":"z","targetId":"😀","type":"t"}' 200
    Step 'edge z-Ａ' POST "$u/graph/edges" '{"sourceId":"z","targetId":"\uff21","type":"t"}' 200
    Step 'edge B-z' POST "$u/graph/edges" '{"sourceId":"B","targetId":"z","type":"t"}' 200
    Step 'edge 5-z' POST "$u/graph/edges" '{"sourceId":"5","targetId":"z","type":"num"}' 200
    Step 'walk order: outgoing edges by target, then incoming by insertion; ids in code point order' GET "$u/graph/query?q=hub&depth=1" $null 200
    Step 'walk order decides what a small limit keeps' GET "$u/graph/query?q=hub&depth=1&limit=4" $null 200
    Step 'query: a repeated q is joined with a comma' GET "$u/graph/query?q=alpha&q=beta&depth=1" $null 200
    Step 'query: q[k]= is "[object Object]"' GET "$u/graph/query?q[k]=hub" $null 200
    Step 'edge delete: a boolean cannot be bound, 500' DELETE "$u/graph/edges" '{"sourceId":true,"targetId":"z","type":"num"}' 500
    Step 'edge delete: an object cannot be bound, 500' DELETE "$u/graph/edges" '{"sourceId":{"k":1},"targetId":"z","type":"num"}' 500
    Step 'edge delete: the number 5 binds as 5.0 and matches nothing' DELETE "$u/graph/edges" '{"sourceId":5,"targetId":"z","type":"num"}' 200
    Step 'the edge from "5" is still there' GET "$u/graph/query?q=hub&depth=1" $null 200
    Step 'edge delete: a one-element array binds its element' DELETE "$u/graph/edges" '{"sourceId":["5"],"targetId":"z","type":"num"}' 200
    Step 'the edge from "5" is gone' GET "$u/graph/query?q=hub&depth=1" $null 200
    Step 'index Ａ' POST "$u/index" '{"key":"\uff21","category":"file","summary":"fw"}' 200
    Step 'index 😀' POST "$u/index" '{"key":"😀","category":"file","summary":"emoji"}' 200
    Step 'search: q[k]= is "[object Object]"' GET "$u/index?q[k]=fw" $null 200
    Step 'commit with a numeric branch: echoed as a number' POST "$u/git/commit" '{"message":"num","branch":5}' 201
    Step 'the branch is stored as "5.0"' GET "$u/git/log?branch=5.0" $null 200
    Step 'so branch 5 has no commits' GET "$u/git/log?branch=5" $null 200
    Step 'commit with a boolean branch: 500' POST "$u/git/commit" '{"message":"m","branch":true}' 500
    Step 'commit with an object branch: 500' POST "$u/git/commit" '{"message":"m","branch":{"k":1}}' 500
    Step 'commit with an empty branch name' POST "$u/git/commit" '{"message":"m","branch":""}' 201
    Step 'log: a repeated branch cannot be bound, 500' GET "$u/git/log?branch=a&branch=b" $null 500
    Step 'diff: a repeated from cannot be bound, 500' GET "$u/git/diff?from=a&from=b" $null 500
    Step 'merge: an empty fromBranch counts as missing' POST "$u/git/merge" '{"fromBranch":"","toBranch":"x","strategy":""}' 400
    Step 'merge of branch "5.0" into itself, empty strategy: a union named ()' POST "$u/git/merge" '{"fromBranch":"5.0","toBranch":"5.0","strategy":""}' 201
    Step 'merge with a numeric message: echoed as a number' POST "$u/git/merge" '{"fromBranch":"5.0","toBranch":"5.0","message":7}' 201
    Step 'log of uni' GET "$u/git/log" $null 200

    # ---- metadata too deep for the server's database worker (the exact limit, about 3066 objects, varies by a level)
    Step 'node with metadata nested 2900 objects deep' POST "$u/graph/nodes" ('{"id":"d2900","type":"file","name":"deep","metadata":' + ('{"d":' * 2900) + '1' + ('}' * 2900) + '}') 200
    Step 'node with metadata nested 3300 objects deep: 500' POST "$u/graph/nodes" ('{"id":"d3300","type":"file","name":"refused","metadata":' + ('{"d":' * 3300) + '1' + ('}' * 3300) + '}') 500
    Step 'index entry with metadata nested 3300 arrays deep: 500' POST "$u/index" ('{"key":"d3300","category":"file","summary":"deep","metadata":{"a":' + ('[' * 3300) + '1' + (']' * 3300) + '}}') 500
    Step 'an ignored field may nest deeper' POST "$u/index" ('{"key":"d","category":"file","summary":"deep","extra":' + ('{"d":' * 3300) + '1' + ('}' * 3300) + '}') 200
    # (Reads stay away from the 2900-deep node: the reference server never answers a read of metadata nested
    # more than about 1930 deep, see the report of this suite's branch; the mock answers.)
    Step 'nothing was stored for the refused node' GET "$u/graph/query?q=refused&depth=1" $null 200
    Step 'nothing was stored for the refused entry' GET "$u/index/d3300" $null 404

    $script:steps = $steps.ToArray()
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../tools/Servers.psm1') -Force

    function Invoke-Step([string] $BaseUri, [hashtable] $Step, [hashtable] $Captured) {
        $path = [regex]::Replace($Step.Path, '\{(\w+)\}', { param($m) $Captured[$m.Groups[1].Value] })
        # The path goes out exactly as written (no canonicalization), so bad escapes reach the server.
        $options = [UriCreationOptions]::new()
        $options.DangerousDisablePathAndQueryCanonicalization = $true
        $uri = [Uri]::new($BaseUri + $path, [ref]$options)
        $params = @{ Method = $Step.Method; Uri = $uri; SkipHttpErrorCheck = $true; UseBasicParsing = $true; TimeoutSec = 30 }
        if ($null -ne $Step.Body) {
            $params.Body = [System.Text.Encoding]::UTF8.GetBytes($Step.Body)
            $params.ContentType = $Step.ContentType
        }
        $response = Invoke-WebRequest @params
        $text = if ($response.Content -is [byte[]]) { [System.Text.Encoding]::UTF8.GetString($response.Content) } else { [string]$response.Content }
        if ($Step.Capture -and $response.StatusCode -lt 300) { $Captured[$Step.Capture] = ($text | ConvertFrom-Json).id }
        # Requests a few milliseconds apart, so that "newer" is never a tie on one server and not the other.
        Start-Sleep -Milliseconds 3
        [pscustomobject]@{ Status = [int]$response.StatusCode; ContentType = [string]$response.Headers['Content-Type']; Body = $text }
    }

    function ConvertTo-Comparable([object[]] $Results) {
        <# Replaces request ids, UUIDs and timestamps in all bodies of one run, consistently across the run. #>
        $uuidPattern = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
        $uuids = @{}
        $times = @{ updatedAt = [System.Collections.Generic.SortedSet[long]]::new(); createdAt = [System.Collections.Generic.SortedSet[long]]::new() }
        foreach ($r in $Results) {
            foreach ($m in [regex]::Matches($r.Body, '"(updatedAt|createdAt)":(\d+)')) { $null = $times[$m.Groups[1].Value].Add([long]$m.Groups[2].Value) }
        }
        $rank = @{}
        foreach ($field in $times.Keys) { $i = 0; foreach ($t in $times[$field]) { $rank["$field/$t"] = $i++ } }
        foreach ($r in $Results) {
            $body = [regex]::Replace($r.Body, '"requestId":"[^"]*"', '"requestId":"<request id>"')
            $body = [regex]::Replace($body, $uuidPattern, { param($m) if (-not $uuids.ContainsKey($m.Value)) { $uuids[$m.Value] = "<uuid $($uuids.Count)>" }; $uuids[$m.Value] })
            $body = [regex]::Replace($body, '"(updatedAt|createdAt)":(\d+)', { param($m) '"' + $m.Groups[1].Value + '":"<t' + $rank["$($m.Groups[1].Value)/$($m.Groups[2].Value)"] + '>"' })
            [pscustomobject]@{ Status = $r.Status; ContentType = $r.ContentType; Body = $body; Raw = $r.Body }
        }
    }
}

Describe 'Mock and reference servers agree on the context routes' -Skip:$noReference -ForEach @(@{ AllSteps = $steps }) {
    # (Skipped when the reference server is not installed: there is nothing to compare with.)
    BeforeAll {
        $script:runs = @{}
        foreach ($kind in 'Mock', 'Reference') {
            $server = Start-AgentMailboxServer -Kind $kind
            try {
                $captured = @{}
                $results = foreach ($step in $AllSteps) { Invoke-Step $server.Uri $step $captured }
                $script:runs[$kind] = @(ConvertTo-Comparable $results)
            }
            finally { $server | Stop-AgentMailboxServer }
        }
    }

    It 'step <Index>: <Name>' -ForEach $steps {
        $ref = $runs.Reference[$Index]
        $mock = $runs.Mock[$Index]
        $ref.Status | Should -Be $Expect -Because "the reference server answered $($ref.Raw)"
        $mock.Status | Should -Be $ref.Status -Because "the mock answered $($mock.Raw)"
        $mock.ContentType | Should -Be $ref.ContentType
        $mock.Body | Should -BeExactly $ref.Body
    }
}

Describe 'Snapshot size limit on both servers' -Skip:$noReference {
    # 5001 nodes, one request each, on each server: bounded, loopback only, a few seconds.
    BeforeAll {
        $script:limitRuns = @{}
        $client = [System.Net.Http.HttpClient]::new()
        try {
            foreach ($kind in 'Mock', 'Reference') {
                $server = Start-AgentMailboxServer -Kind $kind
                try {
                    $send = {
                        param([string] $Method, [string] $Path, [string] $Json)
                        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method), $server.Uri + $Path)
                        if ($Json) { $request.Content = [System.Net.Http.StringContent]::new($Json, [System.Text.Encoding]::UTF8, 'application/json') }
                        $response = $client.SendAsync($request).GetAwaiter().GetResult()
                        [pscustomobject]@{ Status = [int]$response.StatusCode; ContentType = [string]$response.Content.Headers.ContentType; Body = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult() }
                    }
                    $null = & $send POST '/agents/register' '{"agentId":"big"}'
                    $failed = 0
                    foreach ($i in 1..5001) {
                        if ((& $send POST '/mailbox/big/graph/nodes' "{`"id`":`"n$i`",`"type`":`"file`",`"name`":`"node $i`"}").Status -ne 200) { $failed++ }
                    }
                    $over = & $send POST '/mailbox/big/git/commit' '{"message":"too big"}'
                    $null = & $send DELETE '/mailbox/big/graph/nodes/n5001' $null
                    $at = & $send POST '/mailbox/big/git/commit' '{"message":"just fits"}'
                    $log = & $send GET '/mailbox/big/git/log' $null
                    $script:limitRuns[$kind] = [pscustomobject]@{ Failed = $failed; Results = @(ConvertTo-Comparable @($over, $at, $log)) }
                }
                finally { $server | Stop-AgentMailboxServer }
            }
        }
        finally { $client.Dispose() }
    }

    It 'stores all 5001 nodes on both servers' {
        $limitRuns.Mock.Failed | Should -Be 0
        $limitRuns.Reference.Failed | Should -Be 0
    }

    It 'refuses a commit over 5000 nodes the same way (the worker drops the 413, so it is a 500)' {
        $ref = $limitRuns.Reference.Results[0]
        $ref.Status | Should -Be 500 -Because $ref.Raw
        $ref.Body | Should -Match 'snapshot too large: 5001 nodes exceeds limit of 5000'
        $limitRuns.Mock.Results[0].Status | Should -Be $ref.Status
        $limitRuns.Mock.Results[0].Body | Should -BeExactly $ref.Body
    }

    It 'accepts exactly 5000 nodes, and the refused commit was never stored' {
        foreach ($i in 1, 2) {
            $ref = $limitRuns.Reference.Results[$i]
            $limitRuns.Mock.Results[$i].Status | Should -Be $ref.Status
            $limitRuns.Mock.Results[$i].ContentType | Should -Be $ref.ContentType
            $limitRuns.Mock.Results[$i].Body | Should -BeExactly $ref.Body
        }
        $limitRuns.Reference.Results[1].Status | Should -Be 201
        $limitRuns.Reference.Results[1].Body | Should -Match '"nodeCount":5000'
        ($limitRuns.Reference.Results[2].Raw | ConvertFrom-Json).commits.Count | Should -Be 1
    }
}
