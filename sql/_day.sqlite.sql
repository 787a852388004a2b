-- The UTC day of ts ({{day}}): ts is stored as UTC text.
date(ts)
