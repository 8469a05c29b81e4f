package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

func kubeconfigPath(dir, user string) string {
	if user == "admin" {
		return filepath.Join(dir, "kubeconfig")
	}
	return filepath.Join(dir, user+".kubeconfig")
}

// writeKubeconfigs writes one kubeconfig per sandbox user, each with the
// sandbox CA (TLS verification stays on) and the user's bearer token.
func writeKubeconfigs(dir, server string, pki *pkiFiles) error {
	ca, err := os.ReadFile(pki.caCert)
	if err != nil {
		return err
	}
	for _, u := range sandboxUsers {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["vnet-sandbox"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
		cfg.AuthInfos[u.name] = &clientcmdapi.AuthInfo{Token: pki.tokens[u.name]}
		ns := "default"
		if u.name == "editor" {
			ns = "team-a"
		}
		cfg.Contexts["vnet-sandbox-"+u.name] = &clientcmdapi.Context{Cluster: "vnet-sandbox", AuthInfo: u.name, Namespace: ns}
		cfg.CurrentContext = "vnet-sandbox-" + u.name
		if err := clientcmd.WriteToFile(*cfg, kubeconfigPath(dir, u.name)); err != nil {
			return err
		}
	}
	return nil
}

func restConfig(dir, user string) (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", kubeconfigPath(dir, user))
}

// bootstrap installs what a KubeVirt cluster with Multus and Kube-OVN has
// before any workload: the CRDs, the aggregated RBAC those projects ship,
// the sandbox users' bindings and the team-a namespace.
func bootstrap(ctx context.Context, dir, crdDir string) error {
	cfg, err := restConfig(dir, "admin")
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	xc, err := apiextclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if crdDir != "" {
		if err := installCRDs(ctx, xc, crdDir); err != nil {
			return err
		}
	}
	for _, obj := range rbacObjects() {
		if err := createRBAC(ctx, kc, obj); err != nil {
			return err
		}
	}
	return aggregateRoles(ctx, kc)
}

// aggregateRoles does what kube-controller-manager's clusterrole aggregation
// controller would (the sandbox runs no controller manager): every ClusterRole
// with an aggregationRule gets the union of the rules of the roles its
// selectors match, so view/edit/admin include what KubeVirt and Multus add.
func aggregateRoles(ctx context.Context, kc kubernetes.Interface) error {
	roles, err := kc.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, target := range roles.Items {
		if target.AggregationRule == nil {
			continue
		}
		var rules []rbacv1.PolicyRule
		for _, sel := range target.AggregationRule.ClusterRoleSelectors {
			selector, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				return err
			}
			for _, src := range roles.Items {
				if src.Name != target.Name && src.AggregationRule == nil && selector.Matches(labels.Set(src.Labels)) {
					rules = append(rules, src.Rules...)
				}
			}
		}
		updated := target.DeepCopy()
		updated.Rules = rules
		if _, err := kc.RbacV1().ClusterRoles().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("aggregating ClusterRole %s: %w", target.Name, err)
		}
	}
	return nil
}

func installCRDs(ctx context.Context, xc apiextclient.Interface, crdDir string) error {
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		_, err = xc.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CRD %s: %w", crd.Name, err)
		}
		names = append(names, crd.Name)
	}
	for _, name := range names {
		for {
			crd, err := xc.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			if err == nil && established(crd) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s not Established: %w", name, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func established(crd *apiextv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextv1.Established && c.Status == apiextv1.ConditionTrue {
			return true
		}
	}
	return false
}

func rbacObjects() []any {
	read := []string{"get", "list", "watch"}
	write := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	groups := []string{"kubevirt.io", "k8s.cni.cncf.io"}
	role := func(name, aggregate string, verbs []string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-" + aggregate: "true"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: groups, Resources: []string{"*"}, Verbs: verbs}},
		}
	}
	return []any{
		role("vnet-sandbox:aggregate-to-view", "view", read),
		role("vnet-sandbox:aggregate-to-edit", "edit", write),
		role("vnet-sandbox:aggregate-to-admin", "admin", write),
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "vnet-sandbox:viewers"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "Group", Name: "vnet:viewers"}},
		},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "vnet-sandbox:editors", Namespace: "team-a"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "Group", Name: "vnet:editors"}},
		},
	}
}

func createRBAC(ctx context.Context, kc kubernetes.Interface, obj any) error {
	var err error
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		_, err = kc.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRoleBinding:
		_, err = kc.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.RoleBinding:
		_, err = kc.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Namespace:
		_, err = kc.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
	default:
		return fmt.Errorf("unknown object %T", obj)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%T: %w", obj, err)
	}
	return nil
}
