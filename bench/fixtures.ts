/** A realistic Pod (~2.6 KB of JSON: managedFields, spec, status), as a watch event line. */
export function podEvent(i: number): string {
  const name = `web-${i.toString(36)}-7d9f8c6b5d-x2kqp`;
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'web',
      uid: `0b4c5d6e-${(i % 65536).toString(16).padStart(4, '0')}-4f3a-9a8b-1c2d3e4f5a6b`,
      resourceVersion: String(100000 + i),
      creationTimestamp: '2026-11-22T03:00:00Z',
      labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5d', tier: 'frontend' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-22T02:59:00Z' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d9f8c6b5d',
          uid: 'a1b2c3d4-0000-4000-8000-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-22T03:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:generateName': {},
              'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
              'f:ownerReferences': { '.': {}, 'k:{"uid":"a1b2c3d4"}': {} },
            },
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:ports': {},
                  'f:resources': {},
                },
              },
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-22T03:00:05Z',
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:startTime': {},
            },
          },
        },
      ],
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/web:1.27.3',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'PORT', value: '8080' },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
          volumeMounts: [
            { name: 'kube-api-access-x2kqp', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
          ],
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: `node-${i % 50}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      volumes: [
        {
          name: 'kube-api-access-x2kqp',
          projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] },
        },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: '10.0.0.12',
      podIP: `10.244.${i % 250}.${i % 200}`,
      startTime: '2026-11-22T03:00:01Z',
      qosClass: 'Burstable',
      conditions: [
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-22T03:00:01Z' },
        { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-22T03:00:05Z' },
        { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-22T03:00:05Z' },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-22T03:00:00Z' },
      ],
      containerStatuses: [
        {
          name: 'web',
          state: { running: { startedAt: '2026-11-22T03:00:04Z' } },
          ready: true,
          restartCount: 0,
          image: 'registry.example.com/web:1.27.3',
          imageID: 'registry.example.com/web@sha256:0123456789abcdef',
          containerID: 'containerd://0123456789abcdef',
          started: true,
        },
      ],
    },
  };
  return `${JSON.stringify({ type: i % 3 === 0 ? 'ADDED' : 'MODIFIED', object })}\n`;
}
