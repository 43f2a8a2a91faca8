// Voting and leader election for a failover epoch, following Redis's rules: one vote per epoch,
// a higher requested epoch is adopted, and a winner needs a majority of all known sentinels and at
// least `quorum` votes.
import Shared

extension Sentinel {
    /// Votes for `reqRunID` as the leader of `reqEpoch` if we have not voted in that epoch yet.
    /// Returns the leader we voted for in our latest vote and that vote's epoch.
    func voteLeader(_ m: MonitoredInstance, reqEpoch: UInt64, reqRunID: String, now: Int64) -> (leader: String?, epoch: UInt64) {
        if reqEpoch > currentEpoch {
            currentEpoch = reqEpoch
            flushConfig()
            event(.warning, "+new-epoch", message: "\(currentEpoch)", master: m)
        }
        if m.leaderEpoch < reqEpoch && currentEpoch <= reqEpoch {
            m.leader = reqRunID
            m.leaderEpoch = currentEpoch
            // The vote must survive a restart, or we could vote twice in one epoch.
            flushConfig()
            event(.warning, "+vote-for-leader", m, "\(reqRunID) \(m.leaderEpoch)")
            // Having voted for someone else, give them time before trying ourselves.
            if reqRunID != myID {
                m.failoverStartTime = now + Int64(random() % UInt64(SentinelTiming.maxDesync))
            }
        }
        return (m.leader, m.leaderEpoch)
    }

    /// The winner of `epoch` for `m` from the votes peers reported, after casting our own vote
    /// (for the current front-runner, or for ourselves). Nil when no one has a majority and quorum.
    func leader(of m: MonitoredInstance, epoch: UInt64, now: Int64) -> String? {
        var counters: [String: Int] = [:]
        for s in m.sentinels.values {
            if let l = s.leader, s.leaderEpoch == epoch { counters[l, default: 0] += 1 }
        }
        let voters = m.sentinels.count + 1
        func best() -> (String?, Int) {
            var winner: String? = nil
            var max = 0
            // Ties break on the run id so every sentinel picks the same front-runner.
            for (id, n) in counters.sorted(by: { $0.key < $1.key }) where n > max {
                winner = id; max = n
            }
            return (winner, max)
        }
        let (front, _) = best()
        let myVote = voteLeader(m, reqEpoch: epoch, reqRunID: front ?? myID, now: now)
        if let v = myVote.leader, myVote.epoch == epoch { counters[v, default: 0] += 1 }
        let (winner, votes) = best()
        let needed = voters / 2 + 1
        guard let winner, votes >= needed, votes >= m.quorum else { return nil }
        return winner
    }
}
