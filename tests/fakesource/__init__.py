"""A fifth source, added the way SOURCES_API.md says: one folder (`widgets/`) and one registry entry
(`pipelines.sources.REGISTRY.append("widgets")`, done by the test). It is not part of whsync."""
