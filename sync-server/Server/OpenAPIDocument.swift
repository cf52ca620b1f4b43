import Foundation
import LocalityCore

/// The sync API described in OpenAPI 3.1, served at `GET /v1/openapi.json` and kept in
/// `docs/openapi.yaml` (a test holds the two equal). Request and response bodies, and every
/// mutation's arguments, are read off the code's own `Decodable` conformances (`ArgumentSchema`),
/// so the description cannot drift from what the server accepts and answers.
public enum OpenAPIDocument {
    public static var document: JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Locality sync API",
                "version": .string("\(SyncProtocol.version).0"),
                "description": .string("""
                    The protocol between Locality's devices and its sync server: log in, push the outbox's mutations, pull the \
                    changes in the user's scope. Every request but health, readiness, this document and metrics states the \
                    protocol version in the `\(SyncProtocol.versionHeader)` header. Errors carry a stable code and a message a \
                    person can read, and the request's id. See docs/sync-protocol.md.
                    """),
                "license": ["name": "See the repository"],
            ],
            "servers": [["url": "http://127.0.0.1:8080"]],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "parameters": [
                    "protocol": [
                        "name": .string(SyncProtocol.versionHeader), "in": "header", "required": true,
                        "description": "The sync protocol version the client speaks.",
                        "schema": ["type": "string", "enum": .array(SyncProtocol.supported.map { .string(String($0)) })],
                    ],
                ],
                "schemas": schemas,
            ],
        ]
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func json(_ schema: JSONValue, _ description: String) -> JSONValue {
        ["description": .string(description), "content": ["application/json": ["schema": schema]]]
    }

    static func errors(_ statuses: [(String, String)]) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: statuses.map { ($0.0, json(ref("ErrorBody"), $0.1)) })
    }

    static let protocolErrors: [(String, String)] = [
        ("400", "malformed input (`invalid_input`), or no protocol header (`unsupported_protocol_version`)"),
        ("426", "a protocol version this server does not speak"),
    ]

    static var paths: JSONValue {
        let versioned: JSONValue = [["$ref": "#/components/parameters/protocol"]]
        func operation(
            _ id: String, _ summary: String, body: String? = nil, parameters: JSONValue = versioned, secured: Bool = false,
            ok: JSONValue, errors extra: [(String, String)]
        ) -> JSONValue {
            var responses = errors(protocolErrors + extra)
            responses["200"] = ok
            var result: [String: JSONValue] = [
                "operationId": .string(id), "summary": .string(summary), "parameters": parameters, "responses": .object(responses),
            ]
            if let body { result["requestBody"] = ["required": true, "content": ["application/json": ["schema": ref(body)]]] }
            if secured { result["security"] = [["bearer": []]] }
            return .object(result)
        }
        let unauthenticated = ("401", "no valid bearer token (`unauthenticated`), or a revoked device (`device_revoked`)")
        return [
            "/v1/health": [
                "get": [
                    "operationId": "health", "summary": "Liveness, and the council served.", "security": [],
                    "responses": ["200": json(ref("Health"), "the server answers")],
                ],
            ],
            "/v1/ready": [
                "get": [
                    "operationId": "ready", "summary": "Readiness: the database takes writes, its migrations are current, a council is set up.",
                    "responses": ["200": json(ref("Ready"), "ready to serve"), "503": json(ref("Ready"), "not ready, with what is missing")],
                ],
            ],
            "/v1/openapi.json": [
                "get": [
                    "operationId": "openapi", "summary": "This document.",
                    "responses": ["200": json(["type": "object"], "the OpenAPI document")],
                ],
            ],
            "/v1/auth/login": [
                "post": operation(
                    "login", "Log a device in with a username and password.", body: "LoginRequest",
                    ok: json(ref("LoginResponse"), "logged in: the device's bearer token"),
                    errors: [("401", "wrong username or password, or a disabled account"), ("429", "too many failed logins from this address")]),
            ],
            "/v1/auth/activate": [
                "post": operation(
                    "activate", "A first login with a one-time activation code; the password given becomes the account's.",
                    body: "ActivateRequest", ok: json(ref("LoginResponse"), "activated and logged in"),
                    errors: [("401", "a wrong, spent or expired code"), ("429", "too many failed attempts from this address")]),
            ],
            "/v1/auth/logout": [
                "post": operation(
                    "logout", "End this device's token.", secured: true, ok: json(ref("Status"), "logged out"), errors: [unauthenticated]),
            ],
            "/v1/sync/push": [
                "post": operation(
                    "push", "Send the device's next mutations, in sequence order; each is applied or refused, in order, once.",
                    body: "PushRequest", secured: true, ok: json(ref("PushResponse"), "each mutation's result, in order"),
                    errors: [
                        unauthenticated, ("403", "a token used to push for another device"), ("409", "a gap in the device's sequence numbers (`sequence_gap`)"),
                        ("413", "a body or batch too large"), ("503", "the server is shutting down mid-count; send again"),
                    ]),
            ],
            "/v1/sync/pull": [
                "get": operation(
                    "pull", "The changes in the user's scope after a cursor, oldest first.",
                    parameters: [
                        ["$ref": "#/components/parameters/protocol"],
                        ["name": "cursor", "in": "query", "required": false, "schema": ["type": "integer", "minimum": .int(0)]],
                        ["name": "limit", "in": "query", "required": false,
                         "schema": ["type": "integer", "minimum": .int(1), "maximum": .int(Int64(SyncProtocol.maxPullLimit))]],
                        ["name": "shape", "in": "query", "required": false,
                         "description": "How rows are carried: `rows`, each an object of column to value (the default); `columns`, each table's column names once in `columns` and each row its `values` in that order.",
                         "schema": ["type": "string", "enum": .array(PageShape.allCases.map { .string($0.rawValue) })]],
                    ],
                    secured: true, ok: json(ref("PullResponse"), "a page of changes"), errors: [unauthenticated]),
            ],
            "/metrics": [
                "get": [
                    "operationId": "metrics",
                    "summary": "Prometheus metrics; served only when the operator configured a metrics token, and only to its bearer.",
                    "security": [["bearer": []]],
                    "responses": [
                        "200": ["description": "Prometheus text format", "content": ["text/plain": ["schema": ["type": "string"]]]],
                        "401": json(ref("ErrorBody"), "no metrics token, or the wrong one"),
                        "404": json(ref("ErrorBody"), "metrics are not served by this server"),
                    ],
                ],
            ],
        ]
    }

    static var schemas: JSONValue {
        var schemas: [String: JSONValue] = [
            "ErrorBody": [
                "type": "object", "required": ["error"],
                "properties": [
                    "error": [
                        "type": "object", "required": ["code", "message"],
                        "properties": ["code": ["type": "string"], "message": ["type": "string"]],
                    ],
                    "requestId": ["type": "string", "description": "the request's id, as the server's log shows it"],
                ],
            ],
            "Health": [
                "type": "object", "required": ["status"],
                "properties": ["status": ["type": "string"], "council": ["type": ["string", "null"]], "setup": ["type": "string"]],
            ],
            "Ready": ["type": "object", "required": ["status"], "properties": ["status": ["type": "string"], "problems": ["type": "string"]]],
            "Status": ["type": "object", "required": ["status"], "properties": ["status": ["type": "string"]]],
            "LoginRequest": ArgumentSchema.of(LoginRequest.self),
            "ActivateRequest": ArgumentSchema.of(ActivateRequest.self),
            "LoginResponse": ArgumentSchema.of(LoginResponse.self),
            "PushResponse": ArgumentSchema.of(PushResponse.self),
            "PullResponse": ArgumentSchema.of(PullResponse.self),
            "PushRequest": [
                "type": "object", "required": ["deviceId", "mutations"],
                "properties": [
                    "deviceId": ["type": "string", "format": "uuid"],
                    "mutations": ["type": "array", "maxItems": .int(Int64(SyncProtocol.maxPushBatch)), "items": ref("Mutation")],
                ],
            ],
        ]
        // A mutation: its envelope, and arguments whose shape its name decides.
        let envelope = ArgumentSchema.of(Mutation.self)
        var variants: [JSONValue] = []
        for name in MutationName.allCases {
            let key = "arguments." + name.rawValue
            schemas[key] = ArgumentSchema.of(name.commandType)
            variants.append([
                "type": "object", "properties": ["name": ["const": .string(name.rawValue)], "arguments": ref(key)],
            ])
        }
        if case .object(var members) = envelope {
            members["oneOf"] = .array(variants)
            members["description"] = "A change made on a device: its id, the device's gap-free sequence number, a hybrid logical clock reading, who made it and when, and the arguments its name takes."
            schemas["Mutation"] = .object(members)
        }
        return .object(schemas)
    }
}

extension JSONValue {
    /// The value as YAML (block style, keys sorted): how `docs/openapi.yaml` is written.
    public var yaml: String {
        var lines: [String] = []
        Self.yaml(self, indent: 0, into: &lines, inList: false)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func scalar(_ value: JSONValue) -> String? {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .string(let text): return JSONValue.string(text).jsonText  // JSON strings are YAML strings
        case .object(let members) where members.isEmpty: return "{}"
        case .array(let items) where items.isEmpty: return "[]"
        default: return nil
        }
    }

    private static func key(_ text: String) -> String {
        text.allSatisfy({ $0.isLetter || $0.isNumber || "_-./".contains($0) }) && !text.isEmpty && !text.first!.isNumber
            ? text : JSONValue.string(text).jsonText
    }

    private static func yaml(_ value: JSONValue, indent: Int, into lines: inout [String], inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let members) where !members.isEmpty:
            for (index, name) in members.keys.sorted().enumerated() {
                let prefix = inList && index == 0 ? String(repeating: " ", count: max(indent - 2, 0)) + "- " : pad
                let member = members[name]!
                if let text = scalar(member) {
                    lines.append("\(prefix)\(key(name)): \(text)")
                } else {
                    lines.append("\(prefix)\(key(name)):")
                    yaml(member, indent: indent + 2, into: &lines, inList: false)
                }
            }
        case .array(let items) where !items.isEmpty:
            for item in items {
                if let text = scalar(item) {
                    lines.append("\(pad)- \(text)")
                } else if case .array = item {
                    lines.append("\(pad)-")
                    yaml(item, indent: indent + 2, into: &lines, inList: false)
                } else {
                    yaml(item, indent: indent + 2, into: &lines, inList: true)
                }
            }
        default:
            lines.append(pad + (scalar(value) ?? "null"))
        }
    }
}
