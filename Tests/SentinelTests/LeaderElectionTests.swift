@testable import Sentinel
import Shared
import Testing

@Suite struct LeaderElectionTests {
    @Test func oneVotePerEpochAndHigherEpochAdopted() {
        let (s, rec, m) = Fixture.make()
        let v1 = s.voteLeader(m, reqEpoch: 5, reqRunID: Fixture.peerB, now: 100)
        #expect(v1.leader == Fixture.peerB && v1.epoch == 5)
        #expect(s.currentEpoch == 5)
        #expect(rec.message("+new-epoch") == "5")
        #expect(rec.message("+vote-for-leader") == "master mymaster 10.0.0.1 6000 \(Fixture.peerB) 5")
        // A second candidate in the same epoch is told about the first vote.
        let v2 = s.voteLeader(m, reqEpoch: 5, reqRunID: Fixture.peerC, now: 110)
        #expect(v2.leader == Fixture.peerB && v2.epoch == 5)
        // An older epoch never wins a vote.
        let v3 = s.voteLeader(m, reqEpoch: 4, reqRunID: Fixture.peerC, now: 120)
        #expect(v3.leader == Fixture.peerB)
        let v4 = s.voteLeader(m, reqEpoch: 6, reqRunID: Fixture.peerC, now: 130)
        #expect(v4.leader == Fixture.peerC && v4.epoch == 6)
    }

    @Test func isMasterDownByAddrVotesOnlyForRunIDs() {
        let (s, _, m) = Fixture.make()
        m.flags.insert(.sDown)
        let ask = s.isMasterDownByAddr(ip: "10.0.0.1", port: 6000, reqEpoch: 1, runid: "*", now: 10)
        #expect(ask.down && ask.leader == nil && ask.epoch == 0)
        let vote = s.isMasterDownByAddr(ip: "10.0.0.1", port: 6000, reqEpoch: 1, runid: Fixture.peerB, now: 10)
        #expect(vote.leader == Fixture.peerB && vote.epoch == 1)
        let unknown = s.isMasterDownByAddr(ip: "10.9.9.9", port: 1, reqEpoch: 1, runid: Fixture.peerB, now: 10)
        #expect(!unknown.down && unknown.leader == nil)
    }

    @Test func leaderNeedsMajorityAndQuorum() {
        let (s, _, m) = Fixture.make(quorum: 2)
        s.currentEpoch = 1
        // Nobody else voted: my own vote is 1 of 3 voters.
        #expect(s.leader(of: m, epoch: 1, now: 10) == nil)
        m.sentinels[Fixture.peerB]!.leader = Fixture.myID
        m.sentinels[Fixture.peerB]!.leaderEpoch = 1
        #expect(s.leader(of: m, epoch: 1, now: 20) == Fixture.myID)
    }

    @Test func votesOfOtherEpochsDoNotCount() {
        let (s, _, m) = Fixture.make(quorum: 2)
        s.currentEpoch = 2
        m.sentinels[Fixture.peerB]!.leader = Fixture.myID
        m.sentinels[Fixture.peerB]!.leaderEpoch = 1
        #expect(s.leader(of: m, epoch: 2, now: 10) == nil)
    }

    @Test func weVoteForTheFrontRunner() {
        let (s, _, m) = Fixture.make(quorum: 2)
        s.currentEpoch = 3
        m.sentinels[Fixture.peerB]!.leader = Fixture.peerC
        m.sentinels[Fixture.peerB]!.leaderEpoch = 3
        #expect(s.leader(of: m, epoch: 3, now: 10) == Fixture.peerC)
        #expect(m.leader == Fixture.peerC)
    }

    @Test func highQuorumBlocksAMajorityWinner() {
        let (s, _, m) = Fixture.make(quorum: 3)
        s.currentEpoch = 1
        m.sentinels[Fixture.peerB]!.leader = Fixture.myID
        m.sentinels[Fixture.peerB]!.leaderEpoch = 1
        #expect(s.leader(of: m, epoch: 1, now: 10) == nil)
    }
}
