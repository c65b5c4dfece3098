import FuzzDriver

@_cdecl("fuzz_kea_main")
func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzKea(data ?? UnsafePointer(bitPattern: 1)!, size) }
}
