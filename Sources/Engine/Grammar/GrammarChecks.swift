/// Static checks on a compiled grammar: which rules can match the empty string, left recursion (a rule reaching
/// itself through nullable prefixes would make the matcher expand forever), and rules that can match nothing.
enum GrammarChecks {
    static func run(_ g: Grammar) throws(GrammarError) {
        let n = g.alternatives.count
        let nullable = nullableRules(g)

        // Left-recursion: edges A -> B when B can be the first thing A expands to; a cycle is an error.
        var edges = [[Int32]](repeating: [], count: n)
        for r in 0..<n {
            for start in g.alternatives[r] {
                var p = Int(start)
                while case .ref(let b) = g.elements[p] {
                    edges[r].append(b)
                    if !nullable[Int(b)] { break }
                    p += 1
                }
            }
        }
        // Iterative DFS with colours (0 new, 1 on the path, 2 done): no recursion on hostile input.
        var colour = [UInt8](repeating: 0, count: n)
        for s in 0..<n where colour[s] == 0 {
            var path: [(Int, Int)] = [(s, 0)]
            colour[s] = 1
            while let (v, k) = path.last {
                if k < edges[v].count {
                    path[path.count - 1].1 += 1
                    let w = Int(edges[v][k])
                    if colour[w] == 1 { throw .leftRecursion(rule: g.ruleNames[w]) }
                    if colour[w] == 0 { colour[w] = 1; path.append((w, 0)) }
                } else {
                    colour[v] = 2
                    path.removeLast()
                }
            }
        }

        // Productive rules: some alternative made of non-empty classes and productive rules.
        var productive = [Bool](repeating: false, count: n)
        let emptyClass = g.classes.map(\.isEmpty)
        var changed = true
        while changed {
            changed = false
            for r in 0..<n where !productive[r] {
                for start in g.alternatives[r] where altWorks(g, Int(start), { productive[Int($0)] }, emptyClass) {
                    productive[r] = true
                    changed = true
                    break
                }
            }
        }
        if !productive[Int(g.root)] { throw .matchesNothing(rule: "root") }
    }

    private static func altWorks(_ g: Grammar, _ start: Int, _ ok: (Int32) -> Bool, _ emptyClass: [Bool]) -> Bool {
        var p = start
        while true {
            switch g.elements[p] {
            case .end: return true
            case .ref(let b): if !ok(b) { return false }
            case .chars(let c): if emptyClass[Int(c)] { return false }
            }
            p += 1
        }
    }

    static func nullableRules(_ g: Grammar) -> [Bool] {
        let n = g.alternatives.count
        var nullable = [Bool](repeating: false, count: n)
        var changed = true
        while changed {
            changed = false
            for r in 0..<n where !nullable[r] {
                for start in g.alternatives[r] {
                    var p = Int(start)
                    var ok = true
                    loop: while true {
                        switch g.elements[p] {
                        case .end: break loop
                        case .chars: ok = false; break loop
                        case .ref(let b): if !nullable[Int(b)] { ok = false; break loop }
                        }
                        p += 1
                    }
                    if ok { nullable[r] = true; changed = true; break }
                }
            }
        }
        return nullable
    }
}
