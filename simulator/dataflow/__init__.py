"""Loop-nest dataflows: a tensor contraction as a loop nest (:mod:`.nest`), the PE array and its
memories as the mapper sees them (:mod:`.arch`), and the mapper that tiles the nest across
register file, on-chip buffers and DRAM (:mod:`.mapper`). Pure numerics: no workload, rule or
engine imports."""
