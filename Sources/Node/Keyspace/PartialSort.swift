// The two sorts SORT and GEO* results go through in Redis, reproduced so that elements that
// compare equal come out in the same order as there:
// - a full sort is glibc's qsort, a merge sort, hence stable;
// - a sort of which only ranks lo...hi are wanted (SORT ... BY ... LIMIT, GEO* ... COUNT) is
//   Redis's pqsort (Bentley & McIlroy's quicksort that skips partitions outside the ranks),
//   which is not stable: the same algorithm gives the same order of ties.

/// Redis's two sorts over an array with a three-way comparator.
enum RedisSort {
    /// Stable sort (what glibc's qsort does for the sizes Redis sorts).
    static func stable<T>(_ a: inout [T], _ cmp: (T, T) -> Int) {
        guard a.count > 1 else { return }
        var idx = Array(a.indices)
        // Ties ordered by original position make any sort stable.
        idx.sort { x, y in
            let r = cmp(a[x], a[y])
            return r != 0 ? r < 0 : x < y
        }
        a = idx.map { a[$0] }
    }

    /// Leaves the `count` smallest elements under the strict total order `less`, in order, at
    /// the front (a bounded max-heap: O(n log count)); `a` is cut to them.
    static func smallest<T>(_ a: inout [T], count: Int, by less: (T, T) -> Bool) {
        guard count < a.count else { a.sort(by: less); return }
        guard count > 0 else { a = []; return }
        var heap = Array(a.prefix(count))
        func siftDown(_ i0: Int) {
            var i = i0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[m], heap[l]) { m = l }
                if r < heap.count && less(heap[m], heap[r]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        for x in a.dropFirst(count) where less(x, heap[0]) {
            heap[0] = x
            siftDown(0)
        }
        heap.sort(by: less)
        a = heap
    }

    /// Sorts so that positions lo...hi hold what a full sort would put there (pqsort).
    static func partial<T>(_ a: inout [T], lo: Int, hi: Int, _ cmp: (T, T) -> Int) {
        guard a.count > 1 else { return }
        a.withUnsafeMutableBufferPointer { buf in
            quick(buf, 0, buf.count, lo, hi, cmp)
        }
    }

    private static func med3<T>(_ a: UnsafeMutableBufferPointer<T>, _ i: Int, _ j: Int, _ k: Int, _ cmp: (T, T) -> Int) -> Int {
        cmp(a[i], a[j]) < 0
            ? (cmp(a[j], a[k]) < 0 ? j : (cmp(a[i], a[k]) < 0 ? k : i))
            : (cmp(a[j], a[k]) > 0 ? j : (cmp(a[i], a[k]) < 0 ? i : k))
    }

    private static func vecswap<T>(_ a: UnsafeMutableBufferPointer<T>, _ i: Int, _ j: Int, _ n: Int) {
        for t in 0..<max(0, n) { a.swapAt(i + t, j + t) }
    }

    /// `_pqsort` on the `n` elements starting at `base`; `lr...rr` are the wanted ranks.
    private static func quick<T>(_ a: UnsafeMutableBufferPointer<T>, _ base0: Int, _ n0: Int, _ lr: Int, _ rr: Int,
                                 _ cmp: (T, T) -> Int) {
        var base = base0, n = n0
        while true {
            if n < 7 {
                var m = base + 1
                while m < base + n {
                    var l = m
                    while l > base && cmp(a[l - 1], a[l]) > 0 { a.swapAt(l, l - 1); l -= 1 }
                    m += 1
                }
                return
            }
            var pm = base + n / 2
            if n > 7 {
                var pl = base
                var pn = base + n - 1
                if n > 40 {
                    let d = n / 8
                    pl = med3(a, pl, pl + d, pl + 2 * d, cmp)
                    pm = med3(a, pm - d, pm, pm + d, cmp)
                    pn = med3(a, pn - 2 * d, pn - d, pn, cmp)
                }
                pm = med3(a, pl, pm, pn, cmp)
            }
            a.swapAt(base, pm)
            var pa = base + 1, pb = base + 1
            var pc = base + n - 1, pd = base + n - 1
            while true {
                while pb <= pc {
                    let r = cmp(a[pb], a[base])
                    if r > 0 { break }
                    if r == 0 { a.swapAt(pa, pb); pa += 1 }
                    pb += 1
                }
                while pb <= pc {
                    let r = cmp(a[pc], a[base])
                    if r < 0 { break }
                    if r == 0 { a.swapAt(pc, pd); pd -= 1 }
                    pc -= 1
                }
                if pb > pc { break }
                a.swapAt(pb, pc)
                pb += 1
                pc -= 1
            }
            let pn = base + n
            var r = min(pa - base, pb - pa)
            vecswap(a, base, pb - r, r)
            r = min(pd - pc, pn - pd - 1)
            vecswap(a, pb, pn - r, r)
            // Recurse into the left part, loop on the right one, skipping parts outside lr...rr.
            let leftCount = pb - pa
            if leftCount > 1 {
                let l = base, rgt = base + leftCount - 1
                if !((lr < l && rr < l) || (lr > rgt && rr > rgt)) { quick(a, base, leftCount, lr, rr, cmp) }
            }
            let rightCount = pd - pc
            if rightCount > 1 {
                base = pn - rightCount
                n = rightCount
                let l = base, rgt = base + rightCount - 1
                if !((lr < l && rr < l) || (lr > rgt && rr > rgt)) { continue }
            }
            return
        }
    }
}
