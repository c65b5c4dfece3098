/// Picking versions out of a tag list.
public enum VersionSelection {
    /// Versions among `tags` (others such as `latest` are ignored), oldest first.
    public static func versions(in tags: [String], includePrereleases: Bool) -> [Version] {
        tags.compactMap(Version.init).filter { includePrereleases || !$0.isPrerelease }.sorted()
    }

    /// The newest version, skipping those that failed before.
    public static func newest(in tags: [String], includePrereleases: Bool, skipping failed: [Version] = []) -> Version? {
        versions(in: tags, includePrereleases: includePrereleases).last { !failed.contains($0) }
    }
}
