import Foundation
import Testing
@testable import LocalityCore

/// The published schema of every mutation's arguments is read off the code.
@Suite("Argument schemas from the mutations' own decoding")
struct ArgumentSchemaTests {
    @Test func everyMutationHasAnObjectSchemaWithItsRequiredKeys() throws {
        for name in MutationName.allCases {
            let schema = ArgumentSchema.of(name.commandType)
            guard case .object(let members) = schema, members["type"] == .string("object"), case .object(let properties)? = members["properties"] else {
                Issue.record("\(name.rawValue): \(schema.jsonText)")
                continue
            }
            #expect(!properties.isEmpty, "\(name.rawValue) has no properties")
        }
        let award = ArgumentSchema.of(CreateAward.self)
        if ProcessInfo.processInfo.environment["LOCALITY_PRINT_SCHEMA"] != nil { print(award.jsonText) }
        guard case .object(let members) = award, case .array(let required)? = members["required"], case .object(let properties)? = members["properties"] else {
            Issue.record("award.create: \(award.jsonText)")
            return
        }
        #expect(Set(required) == Set(["awardId", "proposalId", "startsOn", "endsOn", "milestones", "instalments", "indicators"].map(JSONValue.string)))
        #expect(properties["awardId"] == ["type": "string", "format": "uuid"])
        guard case .object(let instalments)? = properties["instalments"], case .object(let item)? = instalments["items"],
            case .object(let itemProperties)? = item["properties"]
        else { Issue.record("instalments: \(properties["instalments"]?.jsonText ?? "")"); return }
        #expect(itemProperties["amount"] == ["type": "integer", "description": "an amount in pence"])
        #expect(item["required"] == ["id", "amount"])
        let decision = ArgumentSchema.of(RecordDecision.self)
        guard case .object(let decisionMembers) = decision, case .object(let decisionProperties)? = decisionMembers["properties"],
            case .object(let outcome)? = decisionProperties["outcome"]
        else { Issue.record("decision.record"); return }
        #expect(outcome["enum"] == .array(Decision.Outcome.allCases.map { .string($0.rawValue) }))
    }
}
