import PVArchive

/// Any bytes as a bundle's SHA256SUMS: parse or refuse; a parsed manifest holds only safe
/// relative paths and 64-digit hashes, and renders back to a manifest that parses the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let manifest = try? Manifest.parse(text) else { return 0 }
    for (path, hash) in manifest.sums {
        precondition(hash.count == 64 && !path.hasPrefix("/") && !path.split(separator: "/").contains(".."), "unsafe entry \(path)")
    }
    precondition((try? Manifest.parse(manifest.text)) == manifest, "does not round-trip")
    return 0
}
