/// Finds anomalies in spend, per series, from the ledger's 5-second and 1-hour rollups (never
/// from raw updates), and keeps them as incidents with a state.
///
/// Every series has its own baseline: the platform total, each tenant, each (tenant,
/// customer) and each model (and, hidden, each (tenant, customer, model), which the others'
/// contributors are made of). A spike in one tenant and a dip in another never cancel out.
///
/// - **Actual**: what the series spent in the last minute (the last 12 settled 5-second buckets;
///   the newest two and the last two minutes are read again, for updates that arrive late).
/// - **Expected**: the mean of its last 60 complete minutes, scaled by how the same hour moved
///   a day and a week earlier once the hour tier holds that history whole and no anomaly of a
///   related series was open then (`seasonal`), with a band
///   of `bandSigmas` standard deviations once there are 30 minutes of history (a relative
///   band, the ratios alone, before).
/// - **Gates**: a spike spends at least `spikeRatio` times expected, leaves the band, adds at
///   least the scope's `minimumChangePerHour` and has `minimumCallsPerMinute`; a drop spends at
///   most `dropRatio` of expected, misses at least the scope's dollars and was expected to have
///   that many calls. The condition must hold for `openAfter` before an incident opens, and be
///   gone for `resolveAfter` before it resolves.
/// - **No learning from anomalies**: from the first sighting, the series is compared with the
///   baseline it had then. After `adaptAfter` the new level is taken as normal: a lasting
///   shift gives one incident, then quiet.
/// - **One incident per cause**: a series whose change is at least half explained by anomalies
///   of the same kind already open (on the series they share) is their contributor, not an
///   incident of its own. Tenants and models are judged before customers, and the total last.
///
/// A pure value: `advance(_:now:)` reads the ledger and returns the changes of state.
public struct AnomalyDetector: Sendable {
    public let settings: AnomalySettings

    /// The minute the actual rate is measured over, in 5-second buckets.
    static let windowBuckets = 12
    /// Minutes of history a baseline is made of.
    static let historyMinutes = 60
    /// A bucket is read once it ended at least this long before `now`: producers that send a
    /// few seconds late are still in it.
    static let settleMs: Int64 = 5000
    /// How far judging may trail the clock when every producer sends late.
    static let maximumLag: Duration = .seconds(120)
    /// The periods whose same time gives the seasonal shape: a day and a week.
    static let seasonalPeriodsMs: [Int64] = [86_400_000, 604_800_000]
    /// The most contributors kept per incident.
    public static let contributorLimit = 8
    /// Minutes of the series shown before the first sighting.
    static let pointsBefore = 15
    /// The most points kept per incident (the first ones stay: the start is what explains it).
    static let pointLimit = 240

    struct Pending: Sendable {
        var kind: Incident.Kind
        var since: Timestamp
        var baseline: Incident.Baseline
        /// The seasonal rates over the baseline's hour, one and more periods earlier.
        var seasonalBase: SIMD2<Double>
        var impact: Double = 0
        var spent: Int128 = 0
    }

    struct Track: Sendable {
        var subject: AnomalySubject
        /// A (tenant, customer, model) series: tracked for contributors, never alerted on.
        var isTriple: Bool
        var customerTrack: Int32 = -1
        var tenantTrack: Int32 = -1
        var modelTrack: Int32 = -1
        var live = true
        /// Minutes of history since the series was first seen spending or calling.
        var historyCount = 0
        var idleMinutes = 0
        /// Spend and calls of the last minute (the last `windowBuckets` settled buckets).
        var windowSpend: Double = 0
        var windowCalls: Int64 = 0
        var mean: Double = 0
        var deviation: Double = 0
        var meanCalls: Double = 0
        /// Seasonal rates, per period: the last minute one period earlier, then the baseline's
        /// hour one period earlier (NaN where the hour tier has nothing).
        var seasonalNow = SIMD2<Double>(.nan, .nan)
        var seasonalBase = SIMD2<Double>(.nan, .nan)
        /// The seasonal base of the baseline the open incident compares with (nil after a
        /// restart, which does not know it: the current one is used).
        var incidentSeasonalBase: SIMD2<Double>?
        var pending: Pending?
        /// The open incident's id.
        var incident: String?
        var clearSince: Timestamp?
        /// Contributors' expected rates when the incident opened.
        var contributorBaseline: [AnomalySubject: Double] = [:]

        /// `subject.scope`, and nil for triples: read for every track on every tick, without
        /// copying the names.
        var judgedScope: AnomalySubject.Scope?

        init(subject: AnomalySubject, isTriple: Bool) {
            self.subject = subject
            self.isTriple = isTriple
            judgedScope = isTriple ? nil : subject.scope
        }

        var currentBaseline: Incident.Baseline {
            Incident.Baseline(meanPerMinute: mean, deviationPerMinute: deviation, callsPerMinute: meanCalls)
        }
    }

    /// Every incident of the last `settings.retention`, by id.
    public private(set) var incidents: [String: Incident] = [:]
    var tracks: [Track] = []
    private var freeTracks: [Int32] = []
    private var scopeTracks: [AnomalySubject: Int32] = [:]
    private var tripleTracks: [SeriesTable.SeriesName: Int32] = [:]
    /// The triple track of each ledger series id (-1: not looked up yet).
    private var ledgerMap: [Int32] = []
    private var ledgerGeneration = -1
    /// Per track: the last `windowBuckets` buckets and the last `historyMinutes` minutes.
    private var windowSpend: [Float] = []
    private var windowCalls: [UInt32] = []
    private var historySpend: [Float] = []
    private var historyCalls: [UInt32] = []
    /// Per track: the customer, tenant and model tracks of a triple (x, y, z; -1 otherwise),
    /// apart from `tracks` so that the hottest loop reads 16 bytes, not a whole `Track`.
    private var parentTracks: [SIMD4<Int32>] = []
    private var scratchCost: [Int128] = []
    /// The same sums in dollars: converting `Int128` to `Double` goes through a generic path
    /// that cost more than the rest of a tick; 64-bit words convert directly.
    private var scratchSpend: [Double] = []
    private var scratchCalls: [Int64] = []
    /// The newest bucket folded in.
    private var lastBucket: Int64?
    /// The updates each recent 5-second bucket held when it was last read: a minute whose
    /// buckets still hold as many need not be read again at its end (no update came late).
    private var readUpdates: [Int64: Int64] = [:]
    /// Ids of incidents changed since `takeChanges(now:)`.
    private var changed: Set<String> = []
    private var revision: Int64 = 0

    /// `settings.minimumChangePerHour` in dollars per minute.
    private let gatesPerMinute: [AnomalySubject.Scope: Double]

    public init(settings: AnomalySettings = AnomalySettings()) {
        self.settings = settings
        gatesPerMinute = settings.minimumChangePerHour.mapValues { $0 / 60 }
        _ = scopeTrack(.total, create: true)
    }

    /// Takes up the incidents a journal kept: open ones continue with the baseline they had.
    public mutating func restore(_ stored: [Incident], now: Timestamp) {
        for incident in stored where incident.lastSeen.duration(to: now) < settings.retention || incident.state == .open {
            incidents[incident.id] = incident
            guard incident.state == .open, let track = scopeTrack(incident.subject, create: true) else { continue }
            tracks[Int(track)].incident = incident.id
            // The contributors kept go on comparing with their level from before the start.
            tracks[Int(track)].contributorBaseline = Dictionary(
                incident.contributors.map { ($0.subject, $0.expectedPerHour) }, uniquingKeysWith: { first, _ in first })
        }
    }

    // MARK: Advancing

    /// Folds in every bucket settled since the last call, judges every series after each, and
    /// returns the incidents' changes of state (opened, resolved) in order.
    public mutating func advance(_ ledger: UsageLedger, now: Timestamp) -> [AnomalyEvent] {
        syncNames(ledger)
        let width = ledger.fine.width
        // The last bucket that ended `settleMs` ago, or, when every producer is late (the
        // newest bucket written is older), the one before the newest written, but never more
        // than `maximumLag` behind: a platform that stops sending is a drop, not a late one.
        let onTime = (now.millisecondsSinceEpoch - Self.settleMs).flooredDivision(by: width) - 1
        let newest = ledger.fine.newestIndex
        let settled = newest == .min ? onTime : max(onTime - Self.maximumLag.milliseconds / width, min(onTime, newest - 1))
        let reach = Int64(Self.windowBuckets * (Self.historyMinutes + 1))
        var events: [AnomalyEvent] = []
        if lastBucket == nil || settled - lastBucket! > reach {
            // First run, or a gap longer than the history: learn the last hour again, judging
            // nothing until it is learned.
            resetHistory()
            var bucket = (settled - reach).flooredDivision(by: Int64(Self.windowBuckets)) * Int64(Self.windowBuckets)
            while bucket <= settled {
                fold(bucket, ledger, judge: false, events: &events)
                bucket += 1
            }
            lastBucket = settled
        }
        while lastBucket! < settled {
            let bucket = lastBucket! + 1
            fold(bucket, ledger, judge: true, events: &events)
            lastBucket = bucket
        }
        prune(now: now)
        return events
    }

    /// Acknowledges an open or resolved incident; returns the event to alert with, or nil when
    /// no incident has that id.
    public mutating func acknowledge(_ id: String, _ acknowledgement: Incident.Acknowledgement) -> AnomalyEvent? {
        guard var incident = incidents[id] else { return nil }
        incident.acknowledgement = acknowledgement
        incidents[id] = incident
        changed.insert(id)
        return AnomalyEvent(kind: .acknowledged, at: acknowledgement.at, incident: incident)
    }

    /// The incidents changed since the last call, to be written to the journal, with the
    /// revision that orders this batch after every earlier one (also across restarts: it is
    /// at least `now` in milliseconds).
    public mutating func takeChanges(now: Timestamp) -> (incidents: [Incident], revision: Int64) {
        defer { changed.removeAll() }
        revision = max(revision + 1, now.millisecondsSinceEpoch)
        return (changed.compactMap { incidents[$0] }.sorted { ($0.start, $0.id) < ($1.start, $1.id) }, revision)
    }

    /// Marks incidents as changed again (their write failed and must be tried once more).
    public mutating func markChanged(_ ids: some Sequence<String>) {
        changed.formUnion(ids)
    }

    /// What the page shows: open incidents by impact (largest first), then those resolved in
    /// the 24 hours before `now`, the latest first.
    public func panel(at now: Timestamp) -> [Incident] {
        let open = incidents.values.filter { $0.state == .open }.sorted { (abs($0.impact), $1.id) > (abs($1.impact), $0.id) }
        let dayAgo = now.advanced(by: .seconds(-86_400))
        let resolved = incidents.values.filter { $0.state == .resolved && ($0.end ?? $0.lastSeen) >= dayAgo }
            .sorted { (($0.end ?? $0.lastSeen), $1.id) > (($1.end ?? $1.lastSeen), $0.id) }
        return open + resolved
    }

    /// Number of series followed (for health and memory accounting).
    public var trackedSeries: Int { tracks.count - freeTracks.count }

    // MARK: Tracks

    private mutating func syncNames(_ ledger: UsageLedger) {
        if ledgerGeneration != ledger.namesGeneration {
            ledgerGeneration = ledger.namesGeneration
            ledgerMap = [Int32](repeating: -1, count: ledger.names.seriesCount)
        } else if ledgerMap.count < ledger.names.seriesCount {
            ledgerMap.append(contentsOf: repeatElement(-1, count: ledger.names.seriesCount - ledgerMap.count))
        }
    }

    private mutating func newTrack(_ track: Track) -> Int32 {
        let parents = SIMD4<Int32>(track.customerTrack, track.tenantTrack, track.modelTrack, -1)
        if let index = freeTracks.popLast() {
            tracks[Int(index)] = track
            let i = Int(index)
            parentTracks[i] = parents
            for slot in 0..<Self.windowBuckets {
                windowSpend[i * Self.windowBuckets + slot] = 0
                windowCalls[i * Self.windowBuckets + slot] = 0
            }
            for slot in 0..<Self.historyMinutes {
                historySpend[i * Self.historyMinutes + slot] = 0
                historyCalls[i * Self.historyMinutes + slot] = 0
            }
            return index
        }
        tracks.append(track)
        parentTracks.append(parents)
        windowSpend.append(contentsOf: repeatElement(0, count: Self.windowBuckets))
        windowCalls.append(contentsOf: repeatElement(0, count: Self.windowBuckets))
        historySpend.append(contentsOf: repeatElement(0, count: Self.historyMinutes))
        historyCalls.append(contentsOf: repeatElement(0, count: Self.historyMinutes))
        scratchCost.append(0)
        scratchSpend.append(0)
        scratchCalls.append(0)
        return Int32(tracks.count - 1)
    }

    @discardableResult
    private mutating func scopeTrack(_ subject: AnomalySubject, create: Bool) -> Int32? {
        if let known = scopeTracks[subject] { return known }
        guard create else { return nil }
        let index = newTrack(Track(subject: subject, isTriple: false))
        scopeTracks[subject] = index
        return index
    }

    /// The triple track of a ledger series, made on first sight with its four parents.
    private mutating func tripleTrack(ledgerSeries: UInt32, _ ledger: UsageLedger, create: Bool) -> Int32? {
        let mapped = ledgerMap[Int(ledgerSeries)]
        if mapped >= 0 { return mapped }
        let name = ledger.names.series[Int(ledgerSeries)]
        if let known = tripleTracks[name] {
            ledgerMap[Int(ledgerSeries)] = known
            return known
        }
        guard create else { return nil }
        var track = Track(subject: AnomalySubject(scope: .customer, tenant: name.tenant, customer: name.customer, model: name.model), isTriple: true)
        track.customerTrack = scopeTrack(.customer(name.tenant, name.customer), create: true)!
        track.tenantTrack = scopeTrack(.tenant(name.tenant), create: true)!
        track.modelTrack = scopeTrack(.model(name.model), create: true)!
        let index = newTrack(track)
        tripleTracks[name] = index
        ledgerMap[Int(ledgerSeries)] = index
        return index
    }

    private mutating func freeTrack(_ index: Int) {
        let subject = tracks[index].subject
        if tracks[index].isTriple {
            tripleTracks[SeriesTable.SeriesName(tenant: subject.tenant ?? "", customer: subject.customer ?? "", model: subject.model ?? "")] = nil
        } else {
            scopeTracks[subject] = nil
        }
        tracks[index].live = false
        freeTracks.append(Int32(index))
    }

    private mutating func resetHistory() {
        for i in tracks.indices {
            tracks[i].historyCount = 0
            tracks[i].windowSpend = 0
            tracks[i].windowCalls = 0
        }
        for i in windowSpend.indices {
            windowSpend[i] = 0
            windowCalls[i] = 0
        }
        for i in historySpend.indices {
            historySpend[i] = 0
            historyCalls[i] = 0
        }
        readUpdates = [:]
    }

    // MARK: Folding

    /// Adds the buckets `range` of the 5-second tier into the scratch counters of every track
    /// they count for (each series' triple, customer, tenant, model and the total).
    private mutating func accumulate(_ range: ClosedRange<Int64>, _ ledger: UsageLedger) {
        for index in range {
            guard let stored = ledger.fine.bucket(index: index) else {
                readUpdates[index] = 0
                continue
            }
            readUpdates[index] = stored.totals.updates
            for (key, entry) in zip(stored.keys, stored.values) {
                guard let triple = tripleTrack(ledgerSeries: key, ledger, create: true) else { continue }
                let cost = Int128(entry.costHigh) << 64 | Int128(entry.costLow)
                let spend = Self.dollars(high: entry.costHigh, low: entry.costLow)
                let parents = parentTracks[Int(triple)]
                // The triple, its customer, tenant and model, and the total (track 0): a SIMD
                // value rather than an array literal, which would allocate for every entry.
                let targets = SIMD8<Int32>(triple, parents.x, parents.y, parents.z, 0, 0, 0, 0)
                for k in 0..<5 {
                    scratchCost[Int(targets[k])] += cost
                    scratchSpend[Int(targets[k])] += spend
                    scratchCalls[Int(targets[k])] += entry.calls
                }
            }
        }
    }

    /// Takes the scratch counters of track `i` and clears them.
    private mutating func takeScratch(_ i: Int) -> (cost: Int128, spend: Double, calls: Int64) {
        defer {
            scratchCost[i] = 0
            scratchSpend[i] = 0
            scratchCalls[i] = 0
        }
        return (scratchCost[i], scratchSpend[i], scratchCalls[i])
    }

    /// Picodollars held as two 64-bit words, in dollars.
    static func dollars(high: Int64, low: UInt64) -> Double {
        (Double(high) * 0x1p64 + Double(low)) / 1e12
    }

    /// One more settled bucket: its spend goes into the impact of what is pending or open and
    /// into the last minute; the bucket before it is read again (updates a few seconds late),
    /// and at a minute's end the last `recheckMinutes` minutes are (updates up to 2 minutes
    /// late, as far as judging may trail the clock).
    private mutating func fold(_ bucket: Int64, _ ledger: UsageLedger, judge: Bool, events: inout [AnomalyEvent]) {
        let end = Timestamp(millisecondsSinceEpoch: (bucket + 1) * ledger.fine.width)
        accumulate(bucket...bucket, ledger)
        let slot = Self.windowSlot(bucket)
        for i in tracks.indices where tracks[i].live {
            let (cost, spend, calls) = takeScratch(i)
            setWindow(i, slot: slot, spend: spend, calls: calls)
            guard tracks[i].pending != nil || tracks[i].incident != nil else { continue }
            let expected = expectedPerMinute(i) / Double(Self.windowBuckets)
            if tracks[i].pending != nil {
                tracks[i].pending!.impact += spend - expected
                tracks[i].pending!.spent += cost
            }
            if let id = tracks[i].incident, incidents[id]?.state == .open {
                incidents[id]!.impact += spend - expected
                incidents[id]!.spent += Money(picodollars: cost)
            }
        }
        if judge {
            accumulate((bucket - 1)...(bucket - 1), ledger)
            let previous = Self.windowSlot(bucket - 1)
            for i in tracks.indices where tracks[i].live {
                let (_, spend, calls) = takeScratch(i)
                setWindow(i, slot: previous, spend: spend, calls: calls)
            }
        }
        if (bucket + 1) % Int64(Self.windowBuckets) == 0 {
            completeMinute(end: end, ledger)
        }
        if judge {
            judgeAll(at: end, ledger, events: &events)
        }
    }

    /// Spend, its squares and calls over the history slots `range`.
    private func historySums(_ range: Range<Int>) -> (sum: Double, squares: Double, calls: Double) {
        var sum = 0.0
        var squares = 0.0
        var calls = 0.0
        for s in range {
            let value = Double(historySpend[s])
            sum += value
            squares += value * value
            calls += Double(historyCalls[s])
        }
        return (sum, squares, calls)
    }

    /// Track `i`'s last minute, added up again from its buckets (no drift).
    private func windowSums(_ i: Int) -> (spend: Double, calls: Int64) {
        var spend = 0.0
        var calls: Int64 = 0
        for w in (i * Self.windowBuckets)..<((i + 1) * Self.windowBuckets) {
            spend += Double(windowSpend[w])
            calls += Int64(windowCalls[w])
        }
        return (spend, calls)
    }

    static func windowSlot(_ bucket: Int64) -> Int {
        Int(bucket - bucket.flooredDivision(by: Int64(windowBuckets)) * Int64(windowBuckets))
    }

    /// Puts one bucket's counts into track `i`'s last minute.
    private mutating func setWindow(_ i: Int, slot: Int, spend: Double, calls: Int64) {
        let w = i * Self.windowBuckets + slot
        let kept = Float(spend)
        tracks[i].windowSpend += Double(kept) - Double(windowSpend[w])
        tracks[i].windowCalls += calls - Int64(windowCalls[w])
        windowSpend[w] = kept
        windowCalls[w] = UInt32(clamping: calls)
    }

    /// Minutes read again at each minute's end, for updates that arrive late.
    static let recheckMinutes = 2

    private mutating func completeMinute(end: Timestamp, _ ledger: UsageLedger) {
        let minute = end.millisecondsSinceEpoch / 60_000 - 1
        let buckets = Int64(Self.windowBuckets)
        for back in stride(from: Self.recheckMinutes - 1, through: 0, by: -1) {
            let m = minute - Int64(back)
            let range = (m * buckets)...(m * buckets + buckets - 1)
            // Usually no update came late: the minute's buckets hold what was read, a minute
            // already counted stays as it is, and the minute ending now is the last-minute
            // ring. Reading 24 buckets again was most of the tick that ends a minute.
            let unchanged = range.allSatisfy { readUpdates[$0] == ledger.fine.totals(index: $0).updates }
            if back > 0 && unchanged { continue }
            if !unchanged { accumulate(range, ledger) }
            let slot = Int(m % Int64(Self.historyMinutes))
            for i in tracks.indices where tracks[i].live {
                let spend: Double
                let calls: Int64
                if unchanged {
                    (spend, calls) = windowSums(i)
                } else {
                    (_, spend, calls) = takeScratch(i)
                }
                let h = i * Self.historyMinutes + slot
                if back > 0 {
                    // A minute already counted: only its value changes (within what was seen).
                    if tracks[i].historyCount > back {
                        historySpend[h] = Float(spend)
                        historyCalls[h] = UInt32(clamping: calls)
                    }
                    continue
                }
                historySpend[h] = Float(spend)
                historyCalls[h] = UInt32(clamping: calls)
                let idle = spend == 0 && calls == 0
                if tracks[i].historyCount > 0 || !idle {
                    tracks[i].historyCount = min(Self.historyMinutes, tracks[i].historyCount + 1)
                }
                tracks[i].idleMinutes = idle ? tracks[i].idleMinutes + 1 : 0
            }
        }
        let slot = Int(minute % Int64(Self.historyMinutes))
        for i in tracks.indices where tracks[i].live {
            // The statistics of the last `historyCount` minutes, recomputed (no drift).
            let h = i * Self.historyMinutes
            let count = max(1, tracks[i].historyCount)
            // The minutes `slot - count + 1 ... slot` of the ring, as at most two runs of
            // adjacent slots (a remainder per minute was most of this loop).
            let first = slot - count + 1
            let older = first >= 0 ? h..<h : (h + first + Self.historyMinutes)..<(h + Self.historyMinutes)
            let newer = (h + max(first, 0))..<(h + slot + 1)
            var (sum, squares, calls) = historySums(older)
            let (newerSum, newerSquares, newerCalls) = historySums(newer)
            sum += newerSum
            squares += newerSquares
            calls += newerCalls
            let mean = sum / Double(count)
            tracks[i].mean = mean
            (tracks[i].windowSpend, tracks[i].windowCalls) = windowSums(i)
            tracks[i].deviation = (max(0, squares / Double(count) - mean * mean)).squareRoot()
            tracks[i].meanCalls = calls / Double(count)
        }
        let oldest = (minute - Int64(Self.recheckMinutes)) * buckets
        readUpdates = readUpdates.filter { $0.key >= oldest }
        updateSeasonal(end: end, ledger)
        var freed = false
        for i in tracks.indices where tracks[i].live {
            if let id = tracks[i].incident, incidents[id]?.state == .open {
                let point = point(i, end: end, actual: Double(historySpend[i * Self.historyMinutes + slot]))
                if incidents[id]!.points.count < Self.pointLimit { incidents[id]!.points.append(point) }
                incidents[id]!.contributors = contributors(of: i)
                changed.insert(id)
            } else if i != 0, tracks[i].idleMinutes >= Self.historyMinutes, tracks[i].pending == nil, tracks[i].incident == nil {
                freeTrack(i)
                freed = true
            }
        }
        if freed {
            // Ledger series may point at freed tracks: look every one up again, by name.
            for i in ledgerMap.indices { ledgerMap[i] = -1 }
        }
    }

    /// The rates of each series over the last minute and the last hour, one day and one week
    /// before `end`, from the hour tier (spread evenly within each hour).
    private mutating func updateSeasonal(end: Timestamp, _ ledger: UsageLedger) {
        let hourMs = ledger.hour.width
        let covered = seasonalCoverage(end: end, ledger)
        for (p, period) in Self.seasonalPeriodsMs.enumerated() {
            let then = end.millisecondsSinceEpoch - period
            var recent = [Double](repeating: 0, count: tracks.count)
            var hour = [Double](repeating: 0, count: tracks.count)
            if covered[p] {
                for index in ledger.hour.bucketIndex(of: then - 3_600_000)...ledger.hour.bucketIndex(of: then - 1) {
                    guard let bucket = ledger.hour.bucket(index: index) else { continue }
                    let start = index * hourMs
                    func overlap(_ from: Int64, _ to: Int64) -> Double {
                        Double(max(0, min(to, start + hourMs) - max(from, start))) / Double(hourMs)
                    }
                    let recentShare = overlap(then - 60_000, then)
                    let hourShare = overlap(then - 3_600_000, then)
                    for (key, entry) in zip(bucket.keys, bucket.values) {
                        guard Int(key) < ledgerMap.count, let triple = tripleTrack(ledgerSeries: key, ledger, create: false) else { continue }
                        let cost = Self.dollars(high: entry.costHigh, low: entry.costLow)
                        let parents = parentTracks[Int(triple)]
                        let targets = SIMD8<Int32>(triple, parents.x, parents.y, parents.z, 0, 0, 0, 0)
                        for k in 0..<5 {
                            recent[Int(targets[k])] += cost * recentShare
                            hour[Int(targets[k])] += cost * hourShare / 60
                        }
                    }
                }
            }
            // An anomaly then is not a pattern to follow now: any in the hour buckets read
            // (each is spread over its whole hour), with 5 minutes on either side.
            let from = ledger.hour.bucketIndex(of: then - 3_600_000) * hourMs
            let to = (ledger.hour.bucketIndex(of: then - 1) + 1) * hourMs
            let earlier = incidents.values.filter { incident in
                incident.start.millisecondsSinceEpoch - 300_000 < to && (incident.end ?? incident.lastSeen).millisecondsSinceEpoch + 300_000 > from
            }.map(\.subject)
            for i in tracks.indices where tracks[i].live {
                let usable =
                    covered[p] && hour[i] > 0 && recent[i] > 0 && !earlier.contains { Self.related($0, tracks[i].subject) }
                tracks[i].seasonalNow[p] = usable ? recent[i] : .nan
                tracks[i].seasonalBase[p] = usable ? hour[i] : .nan
            }
        }
    }

    /// Whether each period's history is whole around the same time: spreading an hour bucket
    /// evenly is right only if the platform was counting all through it (a store that started,
    /// or stopped, in the middle of that hour would scale every baseline wrongly). A day ago is
    /// checked minute by minute in the 1-minute tier (95 % of the 61 minutes hold updates); a
    /// week ago, only when a day ago is whole, by the platform's updates in each hour bucket
    /// against the same hour a day ago (at least half).
    private func seasonalCoverage(end: Timestamp, _ ledger: UsageLedger) -> [Bool] {
        let dayAgo = end.millisecondsSinceEpoch - Self.seasonalPeriodsMs[0]
        let minutes = ledger.minute.bucketIndex(of: dayAgo - 3_660_000)..<ledger.minute.bucketIndex(of: dayAgo)
        let held = minutes.count { ledger.minute.totals(index: $0).updates > 0 }
        let day = Double(held) >= 0.95 * Double(minutes.count)
        guard day else { return [false, false] }
        let weekAgo = end.millisecondsSinceEpoch - Self.seasonalPeriodsMs[1]
        var week = true
        for offset in 0...1 {
            let dayBucket = ledger.hour.bucketIndex(of: dayAgo - 1) - Int64(offset)
            let weekBucket = ledger.hour.bucketIndex(of: weekAgo - 1) - Int64(offset)
            let dayUpdates = ledger.hour.totals(index: dayBucket).updates
            if ledger.hour.totals(index: weekBucket).updates * 2 < dayUpdates { week = false }
        }
        return [day, week]
    }

    /// How the same minute compared with its hour one day and one week earlier (1 without
    /// that history), clamped so one odd hour cannot scale a baseline by more than 4.
    private func seasonalFactor(_ i: Int) -> Double {
        let now = tracks[i].seasonalNow
        // Most series, most of the time: no history to scale by.
        guard !now[0].isNaN || !now[1].isNaN else { return 1 }
        let base = tracks[i].pending?.seasonalBase ?? tracks[i].incidentSeasonalBase ?? tracks[i].seasonalBase
        var sum = 0.0
        var count = 0
        for p in 0..<Self.seasonalPeriodsMs.count where !now[p].isNaN && !base[p].isNaN && base[p] > 0 {
            sum += min(4, max(0.25, now[p] / base[p]))
            count += 1
        }
        return count == 0 ? 1 : sum / Double(count)
    }

    private func baseline(_ i: Int) -> Incident.Baseline {
        if let pending = tracks[i].pending { return pending.baseline }
        if let id = tracks[i].incident, let incident = incidents[id], incident.state == .open, !incident.adapted { return incident.baseline }
        return tracks[i].currentBaseline
    }

    private func expectedPerMinute(_ i: Int) -> Double {
        baseline(i).meanPerMinute * seasonalFactor(i)
    }

    private func point(_ i: Int, end: Timestamp, actual: Double) -> Incident.Point {
        let factor = seasonalFactor(i)
        let base = baseline(i)
        let expected = base.meanPerMinute * factor
        let spread = settings.bandSigmas * base.deviationPerMinute * factor
        return Incident.Point(
            end: end, actualPerHour: actual * 60, expectedPerHour: expected * 60,
            lowerPerHour: max(0, min(expected * settings.dropRatio, expected - spread)) * 60,
            upperPerHour: max(expected * settings.spikeRatio, expected + spread) * 60)
    }

    // MARK: Judging

    private enum Verdict { case spike, drop, normal }

    private func verdict(_ i: Int) -> Verdict {
        let base = baseline(i)
        let factor = seasonalFactor(i)
        let expected = base.meanPerMinute * factor
        let spread = settings.bandSigmas * base.deviationPerMinute * factor
        let band = tracks[i].historyCount >= Int(settings.bandHistory.milliseconds / 60_000)
        let gate = gatesPerMinute[tracks[i].judgedScope ?? .customer] ?? 0
        let actual = tracks[i].windowSpend
        if actual >= expected * settings.spikeRatio, !band || actual >= expected + spread, actual - expected >= gate,
            tracks[i].windowCalls >= settings.minimumCallsPerMinute
        {
            return .spike
        }
        if actual <= expected * settings.dropRatio, !band || actual <= expected - spread, expected - actual >= gate,
            base.callsPerMinute >= Double(settings.minimumCallsPerMinute)
        {
            return .drop
        }
        return .normal
    }

    private mutating func judgeAll(at now: Timestamp, _ ledger: UsageLedger, events: inout [AnomalyEvent]) {
        let minimum = Int(settings.minimumHistory.milliseconds / 60_000)
        // Broader explanations first: tenants and models, then customers, then the total.
        for scope in [AnomalySubject.Scope.tenant, .model, .customer, .total] {
            for i in tracks.indices where tracks[i].live && tracks[i].judgedScope == scope {
                if tracks[i].historyCount < minimum && tracks[i].incident == nil {
                    tracks[i].pending = nil
                    continue
                }
                judge(i, at: now, events: &events)
            }
        }
    }

    private mutating func judge(_ i: Int, at now: Timestamp, events: inout [AnomalyEvent]) {
        let verdict = verdict(i)
        let expected = expectedPerMinute(i) * 60
        let actual = tracks[i].windowSpend * 60
        if let id = tracks[i].incident, var incident = incidents[id], incident.state == .open {
            incident.expectedPerHour = expected
            incident.actualPerHour = actual
            let beyond =
                incident.kind == .spike
                ? actual - expected > incident.peakActualPerHour - incident.peakExpectedPerHour
                : actual - expected < incident.peakActualPerHour - incident.peakExpectedPerHour
            if beyond {
                incident.peakActualPerHour = actual
                incident.peakExpectedPerHour = expected
            }
            let holds = (incident.kind == .spike && verdict == .spike) || (incident.kind == .drop && verdict == .drop)
            if holds {
                incident.lastSeen = now
                tracks[i].clearSince = nil
            } else {
                let since = tracks[i].clearSince ?? now
                tracks[i].clearSince = since
                if since.duration(to: now) >= settings.resolveAfter {
                    incident.state = .resolved
                    incident.end = since
                    incidents[id] = incident
                    tracks[i].incident = nil
                    tracks[i].clearSince = nil
                    tracks[i].contributorBaseline = [:]
                    tracks[i].incidentSeasonalBase = nil
                    changed.insert(id)
                    events.append(AnomalyEvent(kind: .resolved, at: now, incident: incident))
                    return
                }
            }
            if !incident.adapted && incident.openedAt.duration(to: now) >= settings.adaptAfter {
                // A lasting change of level: from now on the series' own recent hour is normal.
                incident.adapted = true
                incident.baseline = tracks[i].currentBaseline
                tracks[i].incidentSeasonalBase = nil
                changed.insert(id)
            }
            incidents[id] = incident
            return
        }
        tracks[i].incident = nil
        let kind: Incident.Kind? = verdict == .spike ? .spike : verdict == .drop ? .drop : nil
        guard let kind else {
            tracks[i].pending = nil
            return
        }
        guard let pending = tracks[i].pending, pending.kind == kind else {
            tracks[i].pending = Pending(kind: kind, since: now, baseline: tracks[i].currentBaseline, seasonalBase: tracks[i].seasonalBase)
            return
        }
        guard pending.since.duration(to: now) >= settings.openAfter else { return }
        guard !isExplained(i, kind: kind) else {
            // Explained by another anomaly: keep learning with it, so that when it becomes
            // the new normal this series does not open against a level from before.
            tracks[i].pending = nil
            return
        }
        guard !waitsForBroader(i, kind: kind), !defersToCustomer(i, kind: kind) else { return }
        open(i, pending: pending, expected: expected, actual: actual, at: now, events: &events)
    }

    /// Whether anomalies already open, of the same kind, account for at least half of this
    /// series' change: then it is their contributor, not an incident of its own. Measured on
    /// the (tenant, customer, model) series both cover, so it works across dimensions (a model
    /// whose price jumped explains its customers, and the tenants that use it).
    private func isExplained(_ i: Int, kind: Incident.Kind) -> Bool {
        let subject = tracks[i].subject
        let others = incidents.values.filter { $0.state == .open && $0.kind == kind && $0.subject != subject }.map(\.subject)
        guard !others.isEmpty else { return false }
        var change = 0.0
        var explained = 0.0
        for (index, track) in tracks.enumerated() where track.live && track.isTriple && Self.covers(subject, track.subject) {
            let delta = track.windowSpend - track.mean * seasonalFactor(index)
            change += delta
            if others.contains(where: { Self.covers($0, track.subject) }) { explained += delta }
        }
        return kind == .spike ? change > 0 && explained >= change / 2 : change < 0 && explained <= change / 2
    }

    /// Whether a customer should leave the story to its tenant or one of its models, which is
    /// on its way to an anomaly of the same kind (pending or open) and of whose change this
    /// customer makes less than most (`mostOfTheChange`): a tenant that goes silent is one incident, not one per
    /// customer, while a runaway customer in a small tenant stays the customer's.
    private func waitsForBroader(_ i: Int, kind: Incident.Kind) -> Bool {
        let subject = tracks[i].subject
        guard subject.scope == .customer else { return false }
        var broader: Set<Int32> = []
        for track in tracks where track.live && track.isTriple && Self.covers(subject, track.subject) {
            broader.insert(track.tenantTrack)
            broader.insert(track.modelTrack)
        }
        for index in broader {
            let parent = tracks[Int(index)]
            let pending = parent.pending?.kind == kind
            let open = parent.incident.flatMap { incidents[$0] }.map { $0.state == .open && $0.kind == kind } ?? false
            guard pending || open else { continue }
            var change = 0.0
            var part = 0.0
            for (t, track) in tracks.enumerated() where track.live && track.isTriple && Self.covers(parent.subject, track.subject) {
                let delta = track.windowSpend - track.mean * seasonalFactor(t)
                change += delta
                if Self.covers(subject, track.subject) { part += delta }
            }
            if change == 0 || part / change < Self.mostOfTheChange { return true }
        }
        return false
    }

    /// The share of a tenant's or model's change that makes it one customer's story.
    static let mostOfTheChange = 0.8

    /// Whether a tenant or model should leave the story to one customer on its way to the same
    /// anomaly that makes most (`mostOfTheChange`) of its change: the customer is the more
    /// precise answer, and the tenant is then explained by it.
    private func defersToCustomer(_ i: Int, kind: Incident.Kind) -> Bool {
        let subject = tracks[i].subject
        guard subject.scope == .tenant || subject.scope == .model else { return false }
        var change = 0.0
        var byCustomer: [Int32: Double] = [:]
        for (t, track) in tracks.enumerated() where track.live && track.isTriple && Self.covers(subject, track.subject) {
            let delta = track.windowSpend - track.mean * seasonalFactor(t)
            change += delta
            if tracks[Int(track.customerTrack)].pending?.kind == kind { byCustomer[track.customerTrack, default: 0] += delta }
        }
        return change != 0 && byCustomer.values.contains { $0 / change >= Self.mostOfTheChange }
    }

    /// Whether two subjects may share spend: the total with anything, a tenant with its
    /// customers, a model with anything (any customer may use it). Customers and tenants of
    /// different names do not. `b` may be a hidden (tenant, customer, model) series.
    static func related(_ a: AnomalySubject, _ b: AnomalySubject) -> Bool {
        if a.scope == .total || b.scope == .total { return true }
        if a.scope == .model || b.scope == .model {
            // A (tenant, customer, model) series relates to its own model only.
            if a.scope == .model, b.model != nil { return a.model == b.model }
            if b.scope == .model, a.model != nil { return a.model == b.model }
            return true
        }
        guard a.tenant == b.tenant else { return false }
        guard let one = a.customer, let other = b.customer else { return true }
        return one == other
    }

    /// Whether `subject` covers the (tenant, customer, model) series `triple`.
    static func covers(_ subject: AnomalySubject, _ triple: AnomalySubject) -> Bool {
        switch subject.scope {
        case .total: true
        case .tenant: triple.tenant == subject.tenant
        case .customer: triple.tenant == subject.tenant && triple.customer == subject.customer
        case .model: triple.model == subject.model
        }
    }

    private mutating func open(_ i: Int, pending: Pending, expected: Double, actual: Double, at now: Timestamp, events: inout [AnomalyEvent]) {
        let subject = tracks[i].subject
        let id = Incident.id(kind: pending.kind, subject: subject, start: pending.since)
        // Contributors are compared with the level each had when the anomaly began.
        var baselines: [AnomalySubject: Double] = [:]
        for child in childGroups(of: i) { baselines[child.subject, default: 0] += child.expected }
        tracks[i].contributorBaseline = baselines
        var points: [Incident.Point] = []
        let minute = now.millisecondsSinceEpoch / 60_000
        let count = min(Self.pointsBefore, tracks[i].historyCount)
        for back in stride(from: count - 1, through: 0, by: -1) {
            let m = minute - 1 - Int64(back)
            let slot = Int(m % Int64(Self.historyMinutes))
            points.append(
                point(i, end: Timestamp(millisecondsSinceEpoch: (m + 1) * 60_000), actual: Double(historySpend[i * Self.historyMinutes + slot])))
        }
        let incident = Incident(
            id: id, kind: pending.kind, subject: subject, state: .open, start: pending.since, openedAt: now, lastSeen: now, end: nil,
            expectedPerHour: expected, actualPerHour: actual, peakActualPerHour: actual, peakExpectedPerHour: expected,
            impact: pending.impact, spent: Money(picodollars: pending.spent), contributors: [], acknowledgement: incidents[id]?.acknowledgement,
            baseline: pending.baseline, adapted: false, points: points)
        incidents[id] = incident
        tracks[i].incident = id
        tracks[i].incidentSeasonalBase = pending.seasonalBase
        tracks[i].pending = nil
        tracks[i].clearSince = nil
        incidents[id]!.contributors = contributors(of: i)
        changed.insert(id)
        events.append(AnomalyEvent(kind: .opened, at: now, incident: incidents[id]!))
    }

    // MARK: Contributors

    /// The triple series under track `i`, each with the child subjects it counts for.
    private func childGroups(of i: Int) -> [(subject: AnomalySubject, actual: Double, expected: Double)] {
        let subject = tracks[i].subject
        var result: [(AnomalySubject, Double, Double)] = []
        for (index, track) in tracks.enumerated() where track.live && track.isTriple {
            let name = track.subject
            guard Self.covers(subject, name) else { continue }
            let actual = track.windowSpend * 60
            let expected = track.mean * seasonalFactor(index) * 60
            let children: [AnomalySubject] =
                switch subject.scope {
                case .total: [.tenant(name.tenant!), .model(name.model!)]
                case .tenant: [.customer(name.tenant!, name.customer!), .model(name.model!)]
                case .customer: [.model(name.model!)]
                case .model: [.tenant(name.tenant!), .customer(name.tenant!, name.customer!)]
                }
            for child in children { result.append((child, actual, expected)) }
        }
        return result
    }

    private func contributors(of i: Int) -> [Incident.Contributor] {
        var actual: [AnomalySubject: Double] = [:]
        var expected: [AnomalySubject: Double] = [:]
        for child in childGroups(of: i) {
            actual[child.subject, default: 0] += child.actual
            expected[child.subject, default: 0] += child.expected
        }
        let baselines = tracks[i].contributorBaseline
        let kind = tracks[i].incident.flatMap { incidents[$0]?.kind } ?? .spike
        let all = Set(actual.keys).union(baselines.keys).map { subject in
            Incident.Contributor(subject: subject, actualPerHour: actual[subject] ?? 0, expectedPerHour: baselines[subject] ?? expected[subject] ?? 0)
        }
        let ranked = all.sorted { a, b in
            let (x, y) = kind == .spike ? (a.changePerHour, b.changePerHour) : (-a.changePerHour, -b.changePerHour)
            return x != y ? x > y : a.subject < b.subject
        }
        return Array(ranked.prefix(Self.contributorLimit))
    }

    // MARK: Retention

    private mutating func prune(now: Timestamp) {
        let cutoff = now.advanced(by: .zero - settings.retention)
        for (id, incident) in incidents where incident.state == .resolved && (incident.end ?? incident.lastSeen) < cutoff {
            incidents[id] = nil
        }
    }
}
