{{/* The EPP's name: <release>-epp. */}}
{{- define "epp-ts.name" -}}
{{- $base := .Release.Name | default "default-pool" | lower | trim | trunc 40 -}}
{{ $base }}-epp
{{- end -}}

{{- define "epp-ts.clusterRbacName" -}}
{{- $base := .Release.Name | default "default-pool" | lower | trim | trunc 40 -}}
{{- $ns := .Release.Namespace | default "default" | lower | trim | trunc 40 -}}
{{- printf "%s-%s-epp" $base $ns | trunc 84 -}}
{{- end -}}

{{- define "epp-ts.labels" -}}
app.kubernetes.io/name: {{ include "epp-ts.name" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Standalone mode: inferenceExtension.endpointsServer with createInferencePool false. */}}
{{- define "epp-ts.standalone" -}}
{{- if and .Values.inferenceExtension.endpointsServer (not .Values.inferenceExtension.endpointsServer.createInferencePool) -}}true{{- end -}}
{{- end -}}

{{- define "epp-ts.selectorLabels" -}}
{{- if include "epp-ts.standalone" . -}}
epp: {{ include "epp-ts.name" . }}
{{- else -}}
inferencepool: {{ include "epp-ts.name" . }}
{{- end -}}
{{- end -}}

{{/* Comma-joined target ports for standalone mode. */}}
{{- define "epp-ts.standalonePorts" -}}
{{- $ports := list -}}
{{- range .Values.inferenceExtension.endpointsServer.targetPorts -}}
{{- if kindIs "map" . }}{{ $ports = append $ports (.number | int) }}{{ else }}{{ $ports = append $ports (. | int) }}{{ end -}}
{{- end -}}
{{- join "," $ports -}}
{{- end -}}

{{/* Which group the pool belongs to, from inferencePool.apiVersion. */}}
{{- define "epp-ts.poolGroup" -}}
{{- (split "/" .Values.inferencePool.apiVersion)._0 -}}
{{- end -}}

{{/* Values that must be set; fails the render with a message naming them. */}}
{{- define "epp-ts.validate" -}}
{{- if and (not (include "epp-ts.standalone" .)) (not (and .Values.inferencePool.modelServers .Values.inferencePool.modelServers.matchLabels)) -}}
{{- fail "inferencePool.modelServers.matchLabels is required (or set inferenceExtension.endpointsServer for standalone mode)" -}}
{{- end -}}
{{- if and (include "epp-ts.standalone" .) (not .Values.inferenceExtension.endpointsServer.endpointSelector) -}}
{{- fail "inferenceExtension.endpointsServer.endpointSelector is required in standalone mode" -}}
{{- end -}}
{{- end -}}
