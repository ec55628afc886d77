/// How a node of a cluster (several nodes on one PostgreSQL) stands, for `/api/health`.
public struct ClusterStatus: Hashable, Sendable {
    /// This process's name in the shared log.
    public var node: String
    /// The database, without its password.
    public var database: String
    /// Whether this node holds the archive leader's lock (it archives, prunes, records
    /// incidents and delivers alerts).
    public var leader: Bool
    /// The position in the shared log this node has counted up to.
    public var position: Int64
    /// When following the log last succeeded; nil before the first time.
    public var lastFollowed: Timestamp?
    /// Why the database cannot be used right now (following or the leader's lock failed);
    /// nil while it works.
    public var problem: String?
    /// Since when it has failed.
    public var failingSince: Timestamp?

    public init(
        node: String, database: String, leader: Bool = false, position: Int64 = 0, lastFollowed: Timestamp? = nil,
        problem: String? = nil, failingSince: Timestamp? = nil
    ) {
        self.node = node
        self.database = database
        self.leader = leader
        self.position = position
        self.lastFollowed = lastFollowed
        self.problem = problem
        self.failingSince = failingSince
    }

    public var isFailing: Bool { problem != nil }
}
