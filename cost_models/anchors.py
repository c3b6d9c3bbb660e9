"""Published silicon figures the cost models are compared against (docs/energy.md)."""

RECKON = {
    "chip": "ReckOn",
    "source": "Frenkel & Indiveri, 'ReckOn: a 28nm sub-mm² task-agnostic spiking recurrent neural network "
              "processor enabling on-chip learning over second-long timescales', ISSCC 2022",
    "pj_per_sop": 5.3,
    "vdd": 0.5,
    "node": "28 nm FDSOI",
    "area_mm2": 0.45,
}
