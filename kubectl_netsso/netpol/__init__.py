"""NetworkPolicy / AdminNetworkPolicy reachability engine (pure: no I/O, no click/kubernetes/tabulate).

Public API (others code against these; everything else is internal)::

    from kubectl_netsso.netpol.compile import compile_snapshot, CompiledSnapshot
    from kubectl_netsso.netpol.model import PodPeer, ExternalPeer, Flow, Verdict, DirectionVerdict
    from kubectl_netsso.netpol.evaluate import evaluate_flow, allowed_pair
    from kubectl_netsso.netpol.explain import explain_text, minimal_fix
    from kubectl_netsso.netpol.paths import compute_paths, PathsResult, PathRow

1. Compile once: ``compiled = compile_snapshot(snapshot, ipblock_pods="match"|"ignore")``
   (``compiled.warnings``: invalid policies, ANP priority ties, ...).
2. Peers: ``compiled.peer(workload) -> PodPeer`` (namespace labels filled in), ``compiled.selector_peer(ns, labels)``
   for a hypothetical pod, ``ExternalPeer(ip)`` for ``ip:ADDRESS``.
3. One flow: ``evaluate_flow(compiled, Flow(src, dst, port, protocol), explain=True) -> Verdict``;
   port is a number, a port name (resolved on the destination pod by name and protocol) or None (any port).
   ``Verdict.allowed`` is True / False / None (unknown, e.g. a 403 Gap); ``.egress`` / ``.ingress`` are
   ``DirectionVerdict`` (allowed, reason, selecting policies, decided_by RuleRef, closest NearMiss list with
   Differences, walkthrough steps, unknown_reason, notes); ``.fix`` holds minimal NetworkPolicy dicts for a denied
   flow (render with ``generate.to_yaml``); ``.to_dict()`` is the JSON form; ``explain_text(verdict)`` the lines.
4. All flows: ``compute_paths(compiled, sources, destinations, [(port, protocol), ...]) -> PathsResult``; iterate
   ``result.rows()`` (PathRow with ``to_dict()`` = the README JSON row), or index ``result.allowed(k, i, j)``;
   ``result.evidence(k, i, j)`` gives the full Verdict of one pair (cached per class pair) for ``-o wide``.
"""
