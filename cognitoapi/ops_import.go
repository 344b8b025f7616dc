package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// importOperations are the user import jobs: the CSV header, and jobs
// whose file is uploaded to a pre-signed URL (served by importupload) and
// imported in the background (userpool.RunImports).
func importOperations(s *userpool.Service) map[string]operation {
	const admin = true
	return map[string]operation{
		"GetCSVHeader":          op(admin, s.GetCSVHeader),
		"CreateUserImportJob":   op(admin, s.CreateUserImportJob),
		"StartUserImportJob":    op(admin, s.StartUserImportJob),
		"StopUserImportJob":     op(admin, s.StopUserImportJob),
		"DescribeUserImportJob": op(admin, s.DescribeUserImportJob),
		"ListUserImportJobs":    op(admin, s.ListUserImportJobs),
	}
}
