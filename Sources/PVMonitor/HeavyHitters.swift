/// The most queried names of an interval in bounded memory: Space-Saving (Metwally, Agrawal and
/// El Abbadi, 2005). At most `capacity` keys are kept; a new key beyond that takes the place of
/// the least counted one and inherits its count as its possible overestimate (`error`). A key
/// queried more than total/capacity times is always kept, so a flood of random names cannot push
/// the real heavy hitters out, nor grow memory past the cap. What is not attributed with
/// certainty is `other`.
public struct HeavyHitters<Key: Hashable & Sendable>: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: Key
        /// At least the true count, at most `count` (true count >= count - error).
        public var count: UInt64
        public var error: UInt64
        /// When the key was last added (its last access), if the adder said.
        public var lastSeen: Double?
        public var guaranteed: UInt64 { count - error }
    }

    public let capacity: Int
    /// A min-heap on count, and each key's place in it.
    var heap: [Entry] = []
    var place: [Key: Int] = [:]
    public private(set) var total: UInt64 = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a heavy-hitter summary keeps at least one key")
        self.capacity = capacity
    }

    public var count: Int { heap.count }

    /// Hits not attributed with certainty to a kept key (the evicted keys' share).
    public var other: UInt64 { total - heap.reduce(0) { $0 + $1.guaranteed } }

    /// Counts `hits` for `key`, seen at `time` (kept with the key: one hash per add, whatever happens).
    public mutating func add(_ key: Key, count hits: UInt64 = 1, at time: Double? = nil) {
        total += hits
        if let i = place[key] {
            heap[i].count += hits
            if let time { heap[i].lastSeen = time }
            siftDown(i)
        } else if heap.count < capacity {
            heap.append(Entry(key: key, count: hits, error: 0, lastSeen: time))
            place[key] = heap.count - 1
            siftUp(heap.count - 1)
        } else {
            let smallest = heap[0]
            place[smallest.key] = nil
            heap[0] = Entry(key: key, count: smallest.count + hits, error: smallest.count, lastSeen: time)
            place[key] = 0
            siftDown(0)
        }
    }

    /// The `n` most counted keys, most first (ties by guaranteed count).
    public func top(_ n: Int) -> [Entry] {
        Array(heap.sorted { ($0.count, $0.guaranteed) > ($1.count, $1.guaranteed) }.prefix(n))
    }

    public func entry(_ key: Key) -> Entry? { place[key].map { heap[$0] } }

    mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].count < heap[parent].count else { return }
            swapAt(i, parent)
            i = parent
        }
    }

    mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < heap.count && heap[left].count < heap[smallest].count { smallest = left }
            if right < heap.count && heap[right].count < heap[smallest].count { smallest = right }
            guard smallest != i else { return }
            swapAt(i, smallest)
            i = smallest
        }
    }

    mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        place[heap[a].key] = a
        place[heap[b].key] = b
    }
}
