{{/*
A reference consumer (`burst-load consume`, the scaler's image) placed on one tier, as deploy/examples places it:
virtual → virtual-node selector and toleration, requests equal to limits (virtual nodes bill the limits), only the
security-context fields virtual nodes honour, an emptyDir without sizeLimit; managed → workload-type=stateful selector and toleration (fixed pool
and Karpenter nodes), karpenter.sh/do-not-disrupt so consolidation never kills a consumer mid-batch.
Arguments: root, name, selector (labels), tier, configMap, grace, spread (managed only: spread over nodes).
*/}}
{{- define "burst-scaler.example.deployment" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Values.examples.namespace }}
  labels:
    {{- toYaml .selector | nindent 4 }}
    {{- include "burst-scaler.exampleLabels" $root | nindent 4 }}
spec:
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- toYaml .selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- toYaml .selector | nindent 8 }}
      {{- if eq .tier "managed" }}
      annotations:
        karpenter.sh/do-not-disrupt: "true"
      {{- end }}
    spec:
      serviceAccountName: {{ $root.Values.examples.serviceAccountName }}
      automountServiceAccountToken: true
      enableServiceLinks: false
      {{- if eq .tier "virtual" }}
      nodeSelector:
        type: virtual-node
      tolerations:
        - key: virtual-kubelet.io/provider
          operator: Exists
          effect: NoSchedule
      {{- else }}
      nodeSelector:
        workload-type: stateful
      tolerations:
        - key: workload-type
          operator: Equal
          value: stateful
          effect: NoSchedule
      {{- end }}
      {{- if .spread }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- toYaml .selector | nindent 14 }}
      {{- end }}
      terminationGracePeriodSeconds: {{ .grace }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        {{- if eq .tier "managed" }}
        seccompProfile:
          type: RuntimeDefault
        {{- end }}
      containers:
        - name: consumer
          image: {{ include "burst-scaler.exampleImage" $root }}
          imagePullPolicy: IfNotPresent
          command: ["burst-load"]
          args: ["consume"]
          envFrom:
            - configMapRef:
                name: {{ .configMap }}
          {{- if eq .tier "virtual" }}
          resources:
            requests:
              cpu: "1"
              memory: 1Gi
            limits:
              cpu: "1"
              memory: 1Gi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
          {{- else }}
          resources:
            requests:
              cpu: 500m
              memory: 512Mi
            limits:
              memory: 512Mi
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          {{- end }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        {{- if eq .tier "virtual" }}
        # One emptyDir and no sizeLimit: virtual nodes support nothing more (`burst-scaler check` enforces it); the
        # pod's ephemeral storage, 15 GB including the image, bounds it.
        - name: tmp
          emptyDir: {}
        {{- else }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- end }}
{{- end -}}

{{/* The consumer's settings (burst-load reads every flag from BURST_LOAD_<FLAG>). Arguments: root, name, data. */}}
{{- define "burst-scaler.example.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  namespace: {{ .root.Values.examples.namespace }}
  labels:
    {{- include "burst-scaler.exampleLabels" .root | nindent 4 }}
data:
  {{- range $key, $value := .data }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
  BURST_LOAD_OCI_AUTH: workload_identity
  OCI_RESOURCE_PRINCIPAL_REGION: {{ .root.Values.examples.region | quote }}
  OCI_RESOURCE_PRINCIPAL_VERSION: "2.2"
{{- end -}}

{{/* With TLS on, every example trigger authenticates with KEDA's client certificate. */}}
{{- define "burst-scaler.example.authenticationRef" -}}
{{- if .Values.tls.enabled }}
authenticationRef:
  kind: TriggerAuthentication
  name: {{ include "burst-scaler.fullname" . }}-mtls
{{- end }}
{{- end -}}

{{- define "burst-scaler.example.enabled" -}}
{{- $e := .Values.examples -}}
{{- if or $e.queueVirtual.enabled $e.streamManaged.enabled $e.spillover.enabled }}true{{ end -}}
{{- end -}}
