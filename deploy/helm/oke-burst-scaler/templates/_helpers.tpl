{{/* Names: "<release>-burst-scaler", or the release name when it already holds "burst-scaler". */}}
{{- define "burst-scaler.name" -}}
{{- default "burst-scaler" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "burst-scaler.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "burst-scaler.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Full names are cut at 54 characters so that "-headless" still fits a 63-character DNS label. */}}
{{- define "burst-scaler.headless" -}}
{{- printf "%s-headless" (include "burst-scaler.fullname" .) -}}
{{- end -}}

{{- define "burst-scaler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "burst-scaler.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "burst-scaler.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "burst-scaler.fullname" .)) .Values.tls.secretName -}}
{{- end -}}

{{/* What KEDA dials: the headless Service, so its gRPC client opens a subchannel to every ready replica. */}}
{{- define "burst-scaler.scalerAddress" -}}
{{- printf "%s.%s.svc.%s:%v" (include "burst-scaler.headless" .) .Release.Namespace .Values.clusterDomain .Values.ports.grpc -}}
{{- end -}}

{{- define "burst-scaler.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "burst-scaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "burst-scaler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "burst-scaler.chartLabels" -}}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "burst-scaler.labels" -}}
{{ include "burst-scaler.selectorLabels" . }}
app.kubernetes.io/part-of: oke-burst-scaler
{{ include "burst-scaler.chartLabels" . }}
{{- end -}}

{{/* The examples' labels: their own name plus what marks them as this release's examples. */}}
{{- define "burst-scaler.exampleLabels" -}}
app.kubernetes.io/part-of: oke-burst-scaler-examples
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "burst-scaler.chartLabels" . }}
{{- end -}}

{{- define "burst-scaler.exampleImage" -}}
{{- $repository := default .Values.image.repository .Values.examples.image.repository -}}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.examples.image.tag -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}

{{- define "burst-scaler.grpcProbe" -}}
{{- if .root.Values.tls.enabled -}}
tcpSocket:
  port: grpc
{{- else -}}
grpc:
  port: {{ .root.Values.ports.grpc }}
  service: {{ .service | quote }}
{{- end -}}
{{- end -}}
