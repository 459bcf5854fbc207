// Layer 1, client: kubeconfig and credentials, HTTP/2 and HTTP/1.1 connections, the request core (KubeClient).
// Imports only internal/; entered only through this file.
export { KubeClient, type KubeMethod, type KubeRequest } from './client.ts';
export { proxyFromEnvironment } from './envProxy.ts';
export { kubeConfigTransport } from './kubeConfigTransport.ts';
export { loadDefaultKubeConfig } from './kubeconfig.ts';
export { type ReadKubeconfigOptions, readKubeconfig } from './kubeconfigFile.ts';
export type { ExecConfig, Kubeconfig, KubeconfigCluster, KubeconfigUser } from './kubeconfigModel.ts';
export { HTTP2_HEALTH_DEFAULTS, type Http2Health } from './nativeHttp.ts';
export type { KubeClientOptions } from './options.ts';
export type { StreamBody, WatchTransport } from './transport.ts';
