import AsyncHTTPClient
import Foundation

/// The proxy a download goes through, from the environment as curl and pip read it: `https_proxy` / `HTTPS_PROXY`
/// for https URLs, `http_proxy` / `HTTP_PROXY` for http, skipped for hosts `no_proxy` / `NO_PROXY` lists (comma
/// separated; a name matches itself and its subdomains, a leading dot is ignored, `*` matches every host).
/// A proxy is `[http://][user:password@]host[:port]` (port 80 by default; user and password percent-decoded).
struct ProxySetting: Equatable {
    var host: String
    var port: Int
    var user: String?
    var password: String?

    /// nil: connect directly. Throws for a proxy variable that is set but cannot be read, naming it.
    static func forURL(_ url: URL, environment env: [String: String]) throws(SourceFailure) -> ProxySetting? {
        guard let host = url.host?.lowercased(), let scheme = url.scheme?.lowercased() else { return nil }
        func value(_ name: String) -> (String, String)? {
            for key in [name.lowercased(), name.uppercased()] {
                if let v = env[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty { return (key, v) }
            }
            return nil
        }
        if let (_, list) = value("no_proxy"), bypasses(host, list) { return nil }
        guard let (name, text) = value(scheme == "https" ? "https_proxy" : "http_proxy") else { return nil }
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), components.scheme?.lowercased() == "http",
              let proxyHost = components.host, !proxyHost.isEmpty else {
            throw SourceFailure("\(name)='\(text)' is not an http://host:port proxy")
        }
        let port = components.port ?? 80
        guard (1...65_535).contains(port) else { throw SourceFailure("\(name)='\(text)': port out of range") }
        return ProxySetting(host: proxyHost, port: port, user: components.user?.removingPercentEncoding,
                            password: components.password?.removingPercentEncoding)
    }

    static func bypasses(_ host: String, _ list: String) -> Bool {
        for raw in list.split(separator: ",") {
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    var clientProxy: HTTPClient.Configuration.Proxy {
        let authorization = user.map { HTTPClient.Authorization.basic(username: $0, password: password ?? "") }
        return .server(host: host, port: port, authorization: authorization)
    }
}
