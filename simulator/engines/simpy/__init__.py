"""The SimPy engine (docs/simpy.md): :func:`.simulate.simulate` runs every rule of a workload on
an event-driven, cycle-approximate model of the hardware's cores (:mod:`.engine`), whose tasks are
the pieces of the rules' Works (:mod:`.pieces`, :mod:`.plan`) priced in cycles (:mod:`.costs`)."""
