import { ConfigMap, Namespace, Secret, Service, ServiceAccount, type IConfigMap } from 'kubernetes-models/v1';
import type { INamespace, ISecret, IService, IServiceAccount } from 'kubernetes-models/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import {
  ScaledObject,
  TriggerAuthentication,
  type IScaledObject,
  type ITriggerAuthentication,
} from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  ServiceMonitor,
  type IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { JsonObject } from './kustomize/json';

/**
 * Schema validation of one rendered resource with the Kubernetes / KEDA / Prometheus Operator models.
 * Throws (with the failing path) when the resource does not match its schema, or when the kind is not
 * one the Hotpath manifests are expected to use.
 */
const VALIDATORS: Readonly<Record<string, (r: JsonObject) => void>> = {
  'v1/Namespace': (r) => new Namespace(r as unknown as INamespace).validate(),
  'v1/ServiceAccount': (r) => new ServiceAccount(r as unknown as IServiceAccount).validate(),
  'v1/ConfigMap': (r) => new ConfigMap(r as unknown as IConfigMap).validate(),
  'v1/Secret': (r) => new Secret(r as unknown as ISecret).validate(),
  'v1/Service': (r) => new Service(r as unknown as IService).validate(),
  'apps/v1/Deployment': (r) => new Deployment(r as unknown as IDeployment).validate(),
  'policy/v1/PodDisruptionBudget': (r) =>
    new PodDisruptionBudget(r as unknown as IPodDisruptionBudget).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (r) =>
    new HorizontalPodAutoscaler(r as unknown as IHorizontalPodAutoscaler).validate(),
  'keda.sh/v1alpha1/ScaledObject': (r) => new ScaledObject(r as unknown as IScaledObject).validate(),
  'keda.sh/v1alpha1/TriggerAuthentication': (r) =>
    new TriggerAuthentication(r as unknown as ITriggerAuthentication).validate(),
  'monitoring.coreos.com/v1/ServiceMonitor': (r) =>
    new ServiceMonitor(r as unknown as IServiceMonitor).validate(),
};

export function validateResource(r: JsonObject): void {
  const id = `${String(r['apiVersion'])}/${String(r['kind'])}`;
  const validate = VALIDATORS[id];
  if (!validate) throw new Error(`no schema for ${id}`);
  validate(r);
}

export const KNOWN_KINDS = Object.keys(VALIDATORS);
