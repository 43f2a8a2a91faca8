import Testing
import Shared
@testable import Node

/// SHA-256 against FIPS 180-4 vectors, and ACL users as configured by `user` lines and requirepass.
@Suite struct ConfigACLTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // 55 and 56 bytes straddle the padding boundary.
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 56)) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
    }

    @Test func seedUserLine() {
        var acl = ACL()
        #expect(acl.setUser("app", rules: ["on", ">secret", "~*", "&*", "+@all"]) == nil)
        let u = acl.users["app"]
        #expect(u?.checkPassword(Array("secret".utf8)) == true)
        #expect(u?.checkPassword(Array("nope".utf8)) == false)
        #expect(u?.description == "on #\(SHA256.hex(Array("secret".utf8))) ~* &* +@all")
        #expect(acl.setUser("app", rules: ["off", "resetpass"]) == nil)
        #expect(acl.users["app"]?.enabled == false)
        #expect(acl.users["app"]?.checkPassword(Array("secret".utf8)) == false)
        #expect(acl.setUser("x", rules: ["on", "bogus"]) == "Error in ACL SETUSER modifier 'bogus': Syntax error")
        #expect(acl.users["x"] == nil)
    }

    @Test func requirepassSetsDefaultPassword() {
        var acl = ACL()
        #expect(!acl.defaultUserRequiresAuth)
        acl.setRequirePass(Array("pw".utf8))
        #expect(acl.defaultUserRequiresAuth)
        #expect(acl.defaultUser.checkPassword(Array("pw".utf8)))
        #expect(acl.defaultUser.description == "on #\(SHA256.hex(Array("pw".utf8))) ~* &* +@all")
        acl.setRequirePass(nil)
        #expect(acl.defaultUser.description == "on nopass ~* &* +@all")
    }
}
