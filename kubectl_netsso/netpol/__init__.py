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
4. All flows: ``compute_paths(compiled, sources, destinations, [(port, protocol), ...]) -> PathsResult`` (port None =
   any port; ``paths.ports_in_scope(destinations)`` lists declared container ports). Pass ALL sources in one call
   (e.g. 200 hypothetical source pods x 3,000 destinations): classes are computed once.
   Expansion: ``result.pairs(k)`` yields (i, j, allowed, egress, ingress) fast; ``result.row_strings(k, i)`` gives one
   char per destination ('1'/'0'/'?') for matrix output; ``result.rows()`` yields PathRow (``to_dict()`` = README JSON
   row); ``result.allowed(k, i, j)`` / ``result.direction(k, i, j)`` index one pair; ``result.selecting("egress",
   source_class)`` / ``result.selecting("ingress", dest_class)`` the policies per class; ``result.evidence(k, i, j)``
   the full Verdict of one pair (cached per class pair) for ``-o wide``. Class bitsets (``matrix``, ``unknown``,
   ``egress``, ``ingress`` ... ``[k][source_class]`` -> int over destination classes) and ``source_class`` /
   ``dest_class`` (aligned with the inputs) are stable for direct use.
   Loopback: only a Pod to itself is always allowed; a workload (Deployment, ...) to itself means replica to replica
   and is evaluated by policy like any other pair.
5. Policy internals for audits (ACCESS): ``compiled.network_policies[ns]`` / ``compiled.admin_policies`` /
   ``compiled.baseline`` are ``CompiledPolicy`` (kind, ref, label, subject selectors, ``ingress``/``egress`` rules ->
   ``CompiledRule`` (index, action, peers, all_peers, ports, all_ports) -> ``PeerMatcher`` / ``PortMatcher``).
   ``match.selects(compiled, policy, peer)``, ``match.peer_matches(compiled, peer_matcher, peer)``,
   ``match.ports_match(rule, ports.make_request(port, proto, dest_ports), dest_ports)`` answer True/False/None;
   ``selectors.parse_selector(dict).matches(labels)``; ``evaluate.selecting_policies(compiled, direction, peer)``.
"""
