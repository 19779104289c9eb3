"""Many providers at once: live state, the plan, the apply engine and export."""
