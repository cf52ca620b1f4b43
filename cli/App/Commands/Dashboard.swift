import Foundation
import LocalityCore

/// What `locality` alone shows: who I am, what is waiting to sync, my open needs, my proposals.
enum Dashboard {
    static func show(_ replica: Replica) throws {
        let me = try replica.whoami()
        let actor = try replica.actor()
        print("\(me.displayName) (\(me.username)) — \(me.roles.map(\.rawValue).joined(separator: ", "))")
        if !me.wards.isEmpty { print("Wards: \(me.wards.map(\.name).joined(separator: ", "))") }
        if !me.organisations.isEmpty { print("Organisations: \(me.organisations.map(\.name).joined(separator: ", "))") }

        let pending = try replica.outbox()
        print("\n\(pending.isEmpty ? "Nothing" : "\(pending.count) change\(pending.count == 1 ? "" : "s")") waiting to sync.")
        for mutation in pending.suffix(5) { print("  #\(mutation.sequence)  \(Output.describe(mutation))") }

        // A councillor's open needs are those in their wards; anyone else's are the ones they recorded.
        let needs = try me.wards.isEmpty
            ? replica.needs(recordedBy: me.id)
            : me.wards.flatMap { try replica.needs(localityRef: $0.id.key) }
        let open = needs.filter { $0.need.status.isLive }
        if !open.isEmpty || !me.wards.isEmpty {
            print("\nOpen needs (\(open.count)):")
            if open.isEmpty { print("  none") } else { NeedCommand.table(Array(open.prefix(10))) }
        }

        if !actor.organisationIds.isEmpty {
            let proposals = try replica.proposals(organisationIds: actor.organisationIds)
            print("\nYour proposals (\(proposals.count)):")
            if proposals.isEmpty { print("  none yet — `locality proposal draft --help`") } else {
                ProposalCommand.table(Array(proposals.prefix(10)))
            }
        }
        let votes = try replica.votes().filter(\.takingBallots)
        if !votes.isEmpty {
            print("\nVotes open now (\(votes.count)):")
            Output.table(["Ref", "Closes", "Allocating", "Title"], votes.map { [$0.reference, $0.closesOn, "\($0.amount)", $0.title.clipped(50)] })
            print("  `locality vote show REF` shows the ballot; `locality vote cast REF --choose N` votes.")
        }

        let overdue = try replica.overdueAwards()
        if !overdue.isEmpty {
            print("\nOverdue on awards you follow (\(overdue.count)):")
            AwardCommand.table(overdue)
        }
        print("\n`locality --help` lists everything you can do.")
    }
}
