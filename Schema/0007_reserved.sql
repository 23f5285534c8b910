-- Placeholder on the `devices` branch only: 0007 belongs to another branch (the migrator
-- wants versions without gaps, and this branch's devices tables are 0008). Drop this file
-- when merging, in favour of the real 0007.
SELECT 1;
